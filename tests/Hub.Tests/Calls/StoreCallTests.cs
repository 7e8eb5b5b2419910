using Hub.Tests.Fixtures;
using Hub.Tests.Support;

namespace Hub.Tests.Calls;

public sealed class SqliteCallQueryTests : CallQueryTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresCallQueryTests(PostgresFixture postgres) : CallQueryTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync() => new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync()));
}

public sealed class SqliteCallStatsTests : CallStatsTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresCallStatsTests(PostgresFixture postgres) : CallStatsTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync() => new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync()));
}

public sealed class SqliteCallExportTests : CallExportTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresCallExportTests(PostgresFixture postgres) : CallExportTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync() => new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync()));
}
