namespace Hub.Tests.Fixtures;

/// <summary>Tests on the shared PostgreSQL server of this test run.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>
/// Tests of the production topology: the shared PostgreSQL and RabbitMQ servers of this test run. They
/// run alone, not beside other collections: the broker outage test measures how soon publishing
/// resumes, and two cores shared with the rest of the suite would measure the suite instead.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProductionCollection : ICollectionFixture<PostgresFixture>, ICollectionFixture<RabbitMqFixture>
{
    public const string Name = "production";
}
