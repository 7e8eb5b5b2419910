using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Hub.Store;

public enum SqlDialect
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Opens a connection per unit of work. Both drivers pool underneath, so opening is cheap; nothing
/// caches an open connection.
/// </summary>
public sealed class HubDatabase : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _postgres;
    private readonly string? _sqlite;

    private HubDatabase(SqlDialect dialect, NpgsqlDataSource? postgres, string? sqlite)
    {
        Dialect = dialect;
        _postgres = postgres;
        _sqlite = sqlite;
    }

    public SqlDialect Dialect { get; }

    public static HubDatabase ForPostgres(string connectionString) =>
        new(SqlDialect.Postgres, NpgsqlDataSource.Create(connectionString), null);

    public static HubDatabase ForSqlite(string path)
    {
        SqliteRuntime.EnsureInitialised();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        // A long default timeout: Microsoft.Data.Sqlite retries a busy database until it elapses, which
        // is how concurrent consumers take turns at SQLite's single writer.
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        return new HubDatabase(SqlDialect.Sqlite, null, connectionString);
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }

        var connection = new SqliteConnection(_sqlite);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public ValueTask DisposeAsync() => _postgres?.DisposeAsync() ?? ValueTask.CompletedTask;
}

internal static class SqliteRuntime
{
    private static int _initialised;

    public static void EnsureInitialised()
    {
        if (Interlocked.Exchange(ref _initialised, 1) == 0)
        {
            SQLitePCL.Batteries.Init();
        }
    }
}
