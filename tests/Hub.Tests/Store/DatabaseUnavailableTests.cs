using System.Net.Sockets;
using Hub.Store;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Hub.Tests.Store;

/// <summary>
/// Which failures say the database could not be reached: the Api then acks without remembering ids, and the
/// workers wait for the database instead of moving events to <c>_error</c>. A wrong statement must not count.
/// </summary>
public sealed class DatabaseUnavailableTests
{
    [Theory]
    [InlineData("08006")] // connection failure
    [InlineData("57P01")] // admin shutdown, and "terminating connection due to unexpected postmaster exit"
    [InlineData("57P03")] // the database system is starting up
    [InlineData("53300")] // too many connections
    public void Server_errors_about_the_connection_or_the_server_going_away_are_unavailability(string sqlState) =>
        Assert.True(HubDatabase.IsUnavailable(new PostgresException("m", "FATAL", "FATAL", sqlState)));

    [Theory]
    [InlineData("23505")] // unique violation
    [InlineData("42P01")] // undefined table
    [InlineData("22P02")] // invalid text representation
    [InlineData("40P01")] // deadlock: the statement's own fate, retried as other faults are
    public void Errors_of_the_statement_are_not(string sqlState) =>
        Assert.False(HubDatabase.IsUnavailable(new PostgresException("m", "ERROR", "ERROR", sqlState)));

    [Fact]
    public void Npgsql_connection_failures_and_timeouts_are_unavailability_also_when_wrapped()
    {
        Assert.True(HubDatabase.IsUnavailable(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(HubDatabase.IsUnavailable(new TimeoutException()));
        Assert.True(HubDatabase.IsUnavailable(new InvalidOperationException("wrapped", new NpgsqlException("Exception while reading from stream"))));
    }

    [Fact]
    public void Other_failures_are_not()
    {
        Assert.False(HubDatabase.IsUnavailable(new InvalidOperationException("a bug")));
        Assert.False(HubDatabase.IsUnavailable(new SqliteException("database is locked", 5)));
        Assert.False(HubDatabase.IsUnavailable(new FormatException()));
    }
}
