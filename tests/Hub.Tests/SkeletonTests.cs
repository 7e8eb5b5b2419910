namespace Hub.Tests;

public class SkeletonTests
{
    [Fact]
    public void Sqlite_and_postgres_have_the_same_migration_numbers()
    {
        var sqlite = Hub.Store.Migrator.LoadMigrations(Hub.Store.SqlDialect.Sqlite).Select(m => m.Version);
        var postgres = Hub.Store.Migrator.LoadMigrations(Hub.Store.SqlDialect.Postgres).Select(m => m.Version);
        Assert.NotEmpty(sqlite);
        Assert.Equal(sqlite, postgres);
    }
}
