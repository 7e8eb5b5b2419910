using Dapper;
using Hub.Store;
using Hub.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hub.Tests.Store;

[Collection(PostgresCollection.Name)]
public sealed class MigrationTests(PostgresFixture postgres)
{
    [Fact]
    public void Both_dialects_run_one_set_of_migrations_and_differ_only_where_a_dialect_file_replaces_one()
    {
        var postgresSet = Migrator.LoadMigrations(SqlDialect.Postgres);
        var sqliteSet = Migrator.LoadMigrations(SqlDialect.Sqlite);

        Assert.Equal(postgresSet.Select(m => (m.Version, m.Name)), sqliteSet.Select(m => (m.Version, m.Name)));
        Assert.Contains(postgresSet, m => m.Name == "initial");
        var differing = postgresSet.Zip(sqliteSet).Where(pair => pair.First.Sql != pair.Second.Sql).Select(pair => pair.First.Name);
        // The only two whose SQL cannot be shared: an identity column, and a covering index.
        Assert.Equal(["event_stream", "call_analytics"], differing);
    }

    [Fact]
    public async Task Processes_starting_together_apply_each_migration_once()
    {
        var connectionString = await postgres.CreateDatabaseAsync();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var database = HubDatabase.ForPostgres(connectionString);
            await new Migrator(database, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        }));

        await using var check = HubDatabase.ForPostgres(connectionString);
        await using var connection = await check.OpenAsync(CancellationToken.None);
        var applied = (await connection.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version")).ToList();
        Assert.Equal(Migrator.LoadMigrations(SqlDialect.Postgres).Select(m => m.Version), applied);
    }

    [Fact]
    public async Task The_same_migrations_give_sqlite_and_postgres_the_same_tables_and_columns()
    {
        var directory = Path.Combine(Path.GetTempPath(), "hub-tests", Guid.NewGuid().ToString("N"));
        await using var sqlite = HubDatabase.ForSqlite(Path.Combine(directory, "hub.db"));
        await using var pg = HubDatabase.ForPostgres(await postgres.CreateDatabaseAsync());
        await new Migrator(sqlite, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        await new Migrator(pg, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);

        List<string> sqliteColumns;
        await using (var connection = await sqlite.OpenAsync(CancellationToken.None))
        {
            sqliteColumns = (await connection.QueryAsync<string>(
                """
                SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                """)).Order(StringComparer.Ordinal).ToList();
        }

        await using var pgConnection = await pg.OpenAsync(CancellationToken.None);
        var postgresColumns = (await pgConnection.QueryAsync<string>(
            "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public'"))
            .Order(StringComparer.Ordinal).ToList();

        Assert.Contains("calls.billsec", postgresColumns);
        Assert.Equal(sqliteColumns, postgresColumns);
        Directory.Delete(directory, recursive: true);
    }
}
