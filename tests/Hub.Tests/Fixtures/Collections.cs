namespace Hub.Tests.Fixtures;

/// <summary>Tests on the shared PostgreSQL server of this test run.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>Tests of the production topology: the shared PostgreSQL and RabbitMQ servers of this test run.</summary>
[CollectionDefinition(Name)]
public sealed class ProductionCollection : ICollectionFixture<PostgresFixture>, ICollectionFixture<RabbitMqFixture>
{
    public const string Name = "production";
}
