using Hub.Tests.Fixtures;
using Hub.Tests.Support;

namespace Hub.Tests.CallPath;

/// <summary>The call path on the embedded default's SQLite file.</summary>
public sealed class SqliteCallPathTests : CallPathTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory());
}

/// <summary>The call path on a real PostgreSQL, each test on a fresh database brought up by the same migrations.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresCallPathTests(PostgresFixture postgres) : CallPathTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync() =>
        new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync()));
}
