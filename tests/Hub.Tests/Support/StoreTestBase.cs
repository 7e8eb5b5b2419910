namespace Hub.Tests.Support;

/// <summary>
/// Tests that run once per store: a SQLite subclass and a PostgreSQL subclass each say how to create
/// the hub, and the test bodies use <see cref="Factory"/>.
/// </summary>
public abstract class StoreTestBase : IAsyncLifetime
{
    protected HubApiFactory Factory { get; private set; } = null!;

    protected abstract Task<HubApiFactory> CreateFactoryAsync();

    public async Task InitializeAsync() => Factory = await CreateFactoryAsync();

    public Task DisposeAsync()
    {
        Factory.Dispose();
        return Task.CompletedTask;
    }
}
