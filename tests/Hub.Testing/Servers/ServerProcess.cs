using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hub.Tests.Fixtures;

/// <summary>
/// Small process helpers shared by the fixtures and the bench (which links this file): free ports,
/// command output capture, signals, polling with a deadline.
/// </summary>
internal static class ServerProcess
{
    // bash (Essential in Debian), not sh: dash's kill cannot signal a process group.
    internal const string Bash = "/bin/bash";

    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Distinct free loopback ports (all held at once while choosing, so they differ).</summary>
    public static int[] FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listeners.Add(listener);
                listener.Start();
            }
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }
        }
    }

    /// <summary>Runs a command to completion and returns its exit code and combined output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(ProcessStartInfo info, TimeSpan timeout)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{Describe(info)}` did not finish within {timeout}:\n{Text(output)}");
        }
        return (process.ExitCode, Text(output));
    }

    /// <summary>Sends a signal (e.g. TERM, KILL) to a process, or to a process group when <paramref name="pid"/> is negative.</summary>
    public static Task SignalAsync(string signal, int pid) =>
        RunAsync(
            new ProcessStartInfo(Bash) { ArgumentList = { "-c", "kill -s \"$0\" -- \"$1\"", signal, Invariant(pid) } },
            TimeSpan.FromSeconds(10));

    /// <summary>
    /// Polls <paramref name="probe"/> every 100 ms until it is true. Fails early when
    /// <paramref name="process"/> exits, and on the deadline, with <paramref name="diagnostics"/>.
    /// </summary>
    public static async Task WaitUntilAsync(
        string what,
        Func<Task<bool>> probe,
        TimeSpan timeout,
        Func<string> diagnostics,
        Process? process = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            if (await probe())
            {
                return;
            }
            if (process is { HasExited: true })
            {
                throw new InvalidOperationException(
                    $"{what}: the process exited with {process.ExitCode} before it was ready.\n{diagnostics()}");
            }
            if (stopwatch.Elapsed > timeout)
            {
                throw new TimeoutException($"{what}: not ready after {timeout}.\n{diagnostics()}");
            }
            await Task.Delay(PollInterval);
        }
    }

    public static async Task<bool> IsPortOpenAsync(int port)
    {
        using var client = new TcpClient();
        using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public static string Tail(string path, int lines = 40)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return $"--- last lines of {path} ---\n{string.Join('\n', all.TakeLast(lines))}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"--- {path}: {e.Message} ---";
        }
    }

    public static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Describe(ProcessStartInfo info) =>
        string.Join(' ', info.ArgumentList.Prepend(info.FileName));

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}

