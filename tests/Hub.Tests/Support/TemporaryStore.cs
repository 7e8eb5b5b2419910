using Hub.Store;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hub.Tests.Support;

/// <summary>A SQLite store of a test's own in a temporary directory, migrated on demand and deleted with the test.</summary>
public sealed class TemporaryStore : IDisposable
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "hub-tests", Guid.NewGuid().ToString("N"));

    public string DatabasePath => Path.Combine(Directory, "hub.db");

    /// <summary>A new handle on the store's file, after the migrations; several handles act as several nodes.</summary>
    public async Task<HubDatabase> MigratedAsync()
    {
        var database = HubDatabase.ForSqlite(DatabasePath);
        await new Migrator(database, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        return database;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A pooled SQLite handle may outlive the test briefly; the temp directory is only clutter.
        }
    }
}
