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
    private static readonly TimeSpan SqliteGateTimeout = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _sqliteGate = new(1, 1);

    private HubDatabase(SqlDialect dialect, NpgsqlDataSource? postgres, string? sqlite)
    {
        Dialect = dialect;
        _postgres = postgres;
        _sqlite = sqlite;
    }

    public SqlDialect Dialect { get; }

    /// <summary>
    /// Membership in a list parameter: Dapper expands a list into <c>IN (@p1, @p2, …)</c> for SQLite but
    /// hands Npgsql one array parameter, which PostgreSQL compares with <c>= ANY</c>.
    /// </summary>
    public string InList(string parameter) => Dialect == SqlDialect.Postgres ? $"= ANY(@{parameter})" : $"IN @{parameter}";

    /// <summary>
    /// Whether a failure says the database could not be reached (refused or lost connection, a server shutting
    /// down or starting up, too many connections, a timeout) rather than that a statement was wrong. Work that
    /// failed so is worth doing again once the server is back, however long that takes.
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        // Class 08: connection exception; 57P0x: the server shutting down, crashed, or not yet accepting; 53300: too many connections.
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)
            || postgres.SqlState == PostgresErrorCodes.TooManyConnections,
        // Npgsql's own (not the server's) errors are about the connection: refused, broken, timed out, pool exhausted.
        NpgsqlException => true,
        TimeoutException => true,
        _ => exception.InnerException is { } inner && IsUnavailable(inner),
    };

    public static HubDatabase ForPostgres(string connectionString) =>
        new(SqlDialect.Postgres, NpgsqlDataSource.Create(WithAutoPrepare(connectionString)), null);

    /// <summary>
    /// The hub runs the same few statements thousands of times a second (ingest claims, screen-pops, the call
    /// log); prepared once per connection, PostgreSQL skips parsing and planning them on every call (measured:
    /// a quarter less database CPU per event, docs/BENCHMARKS.md). An operator behind a transaction-mode pooler
    /// that cannot keep prepared statements sets <c>Max Auto Prepare=0</c>.
    /// </summary>
    private static string WithAutoPrepare(string connectionString) =>
        connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase)
            ? connectionString
            : new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 64, AutoPrepareMinUsages = 3 }.ConnectionString;

    public static HubDatabase ForSqlite(string path)
    {
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

        // SQLite has one writer. Left to itself, Microsoft.Data.Sqlite answers a busy file by sleeping
        // a thread and retrying, which on a small machine starves the thread pool that would let the
        // writer finish. The embedded default is one process, so units of work take turns here instead.
        // A unit of work that opened a second connection while holding one would wait for itself:
        // fail loudly instead of hanging.
        if (!await _sqliteGate.WaitAsync(SqliteGateTimeout, cancellationToken))
        {
            throw new TimeoutException($"Waited {SqliteGateTimeout.TotalSeconds} s for the SQLite connection; is one held while opening another?");
        }

        var connection = new GatedSqliteConnection(_sqlite!, _sqliteGate);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _postgres?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>A SQLite connection that gives the gate back when it is closed or disposed.</summary>
    private sealed class GatedSqliteConnection : SqliteConnection
    {
        private SemaphoreSlim? _gate;

        public GatedSqliteConnection(string connectionString, SemaphoreSlim gate)
            : base(connectionString) => _gate = gate;

        public override void Close()
        {
            base.Close();
            Release();
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            Release();
        }

        private void Release()
        {
            if (Interlocked.Exchange(ref _gate, null) is { } gate)
            {
                gate.Release();
            }
        }
    }
}
