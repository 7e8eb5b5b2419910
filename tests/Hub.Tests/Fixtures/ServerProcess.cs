using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hub.Tests.Fixtures;

/// <summary>
/// Small helpers shared by the private-server fixtures: free ports, processes run as a
/// server's own system user, command output capture, polling with a deadline, and the
/// <see cref="Watchdog"/> that removes a server whatever way the test process ends.
/// </summary>
internal static class ServerProcess
{
    public const string InstallHint =
        "apt-get install -y --no-install-recommends rabbitmq-server postgresql";

    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    // Not Path.GetTempPath(): a TMPDIR under /root would be unreachable for postgres/rabbitmq.
    private const string TempRoot = "/tmp";
    private const string Setpriv = "/usr/bin/setpriv";
    private const string Setsid = "/usr/bin/setsid";

    // bash (Essential in Debian), not sh: dash's kill cannot signal a process group.
    internal const string Bash = "/bin/bash";

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

    public static void RequireFile(string path, string what, string? alternative = null)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{what} not found at {path}. Install the test servers: {InstallHint}" +
                (alternative is null ? "" : $" (or {alternative})") + ".");
        }
    }

    /// <summary>
    /// Runs <paramref name="executable"/> as <paramref name="user"/> (via setpriv when this process
    /// is root, as the current user otherwise), optionally as the leader of a new session and
    /// process group (setsid), so the whole server can be signalled as one group and a Ctrl+C
    /// on the test run's terminal does not reach it. Inherited RABBITMQ_*, ERL_* and PG*
    /// variables are dropped so <paramref name="environment"/> is the only configuration.
    /// </summary>
    public static ProcessStartInfo StartInfo(
        string user,
        string executable,
        IEnumerable<string> arguments,
        string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null,
        bool newSession = false)
    {
        var command = new List<string>();
        if (newSession)
        {
            RequireFile(Setsid, "setsid (util-linux)");
            command.Add(Setsid);
        }
        if (Environment.IsPrivilegedProcess)
        {
            RequireFile(Setpriv, "setpriv (util-linux)");
            command.AddRange([Setpriv, $"--reuid={user}", $"--regid={user}", "--init-groups", "--"]);
        }
        command.Add(executable);
        command.AddRange(arguments);

        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }
        var inherited = info.Environment.Keys
            .Where(k => k.StartsWith("RABBITMQ_", StringComparison.Ordinal)
                || k.StartsWith("ERL_", StringComparison.Ordinal)
                || k.StartsWith("PG", StringComparison.Ordinal))
            .ToList();
        foreach (var key in inherited)
        {
            info.Environment.Remove(key);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        return info;
    }

    /// <summary>The prefix that runs a command as <paramref name="user"/> (empty when not root).</summary>
    public static IEnumerable<string> AsUser(string user) =>
        Environment.IsPrivilegedProcess ? [Setpriv, $"--reuid={user}", $"--regid={user}", "--init-groups", "--"] : [];

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

    /// <summary>Runs a command and throws with its output unless it exits with 0.</summary>
    public static async Task<string> RunCheckedAsync(ProcessStartInfo info, TimeSpan timeout)
    {
        var (exitCode, output) = await RunAsync(info, timeout);
        return exitCode == 0
            ? output
            : throw new InvalidOperationException($"`{Describe(info)}` exited with {exitCode}:\n{output}");
    }

    /// <summary>Sends a signal (e.g. TERM, KILL) to a process, or to a process group when <paramref name="pid"/> is negative.</summary>
    public static Task SignalAsync(string signal, int pid) =>
        RunAsync(
            new ProcessStartInfo(Bash) { ArgumentList = { "-c", "kill -s \"$0\" -- \"$1\"", signal, Invariant(pid) } },
            TimeSpan.FromSeconds(10));

    /// <summary>
    /// Starts a long-running server, as <paramref name="user"/>, leading its own process group
    /// (pgid = the returned process's id), with stdout/stderr appended to <paramref name="logFile"/>
    /// (so nothing here has to drain pipes). Every step execs, so the returned process is the server's.
    /// </summary>
    public static Process StartServer(
        string user,
        string executable,
        IEnumerable<string> arguments,
        string workingDirectory,
        string logFile,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var environmentWithLog = new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
        {
            // Also marks the server's processes: the watchdog only kills pids whose environment names the server's directory.
            ["HUB_TEST_SERVER_LOG"] = logFile,
        };
        var shellArguments = new List<string>
        {
            "-c", "exec \"$0\" \"$@\" >>\"$HUB_TEST_SERVER_LOG\" 2>&1 </dev/null", executable,
        };
        shellArguments.AddRange(arguments);
        var info = StartInfo(user, "/bin/sh", shellArguments, workingDirectory, environmentWithLog, newSession: true);
        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {executable}.");
    }

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

    /// <summary>Creates /tmp/hub-test-{kind}-{pid}-{id}, mode 0700, owned by <paramref name="owner"/>.</summary>
    public static async Task<string> CreateTempDirectoryAsync(string kind, string owner)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var path = Path.Combine(TempRoot, $"hub-test-{kind}-{Environment.ProcessId}-{id}");
        Directory.CreateDirectory(path);
        SetMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await ChownAsync(path, owner);
        return path;
    }

    public static void SetMode(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The private test servers run on Linux (Debian packages).");
        }
        File.SetUnixFileMode(path, mode);
    }

    public static async Task ChownAsync(string path, string owner)
    {
        if (Environment.IsPrivilegedProcess)
        {
            await RunCheckedAsync(
                new ProcessStartInfo("chown") { ArgumentList = { "-R", $"{owner}:{owner}", path } },
                TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>
    /// Runs <paramref name="cleanupScript"/> now for every /tmp/hub-test-{kind}-* directory whose
    /// test process is gone and whose watchdog did not finish (e.g. both were SIGKILLed).
    /// </summary>
    public static async Task CleanUpAbandonedAsync(string kind, string cleanupScript, Func<string, IEnumerable<string>> arguments)
    {
        foreach (var directory in Directory.EnumerateDirectories(TempRoot, $"hub-test-{kind}-*"))
        {
            var parts = Path.GetFileName(directory).Split('-');
            if (parts.Length == 5
                && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var owner)
                && !Directory.Exists($"/proc/{owner}"))
            {
                var info = new ProcessStartInfo(Bash) { ArgumentList = { "-c", Watchdog.Script(cleanupScript, wait: false), directory } };
                foreach (var argument in arguments(directory))
                {
                    info.ArgumentList.Add(argument);
                }
                await RunAsync(info, TimeSpan.FromSeconds(60));
            }
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

/// <summary>
/// A bash, in its own session, blocked reading a pipe whose only writer is this process. The
/// read returns when <see cref="DisposeAsync"/> (or the ProcessExit hook) closes the pipe, or when
/// this process dies in any way (vstest kills the test host ~100 ms after the run, too soon for
/// exit handlers to stop servers); the shell then runs the cleanup script and deletes the
/// server's directory. Inside the script, <c>$0</c> is that directory and <c>"$@"</c> the arguments.
/// </summary>
internal sealed class Watchdog : IAsyncDisposable
{
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(60);
    private readonly Process process;
    private int released;

    private Watchdog(Process process)
    {
        this.process = process;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public static Watchdog Start(string directory, string cleanupScript, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("/usr/bin/setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            WorkingDirectory = "/",
            ArgumentList = { ServerProcess.Bash, "-c", Script(cleanupScript, wait: true), directory },
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        return new Watchdog(Process.Start(info) ?? throw new InvalidOperationException("Could not start the server watchdog."));
    }

    internal static string Script(string cleanupScript, bool wait) => string.Join('\n',
        // Output to /dev/null: holding the test host's stdout pipe open would stall vstest.
        "exec >/dev/null 2>&1",
        wait ? "trap '' INT HUP TERM; read -r _" : "",
        // True while pid $1 is alive and belongs to this server (its environment names $0).
        "owned() { [ -n \"$1\" ] && grep -qaF \"$0/\" \"/proc/$1/environ\" 2>/dev/null; }",
        cleanupScript,
        "rm -rf \"$0\" || { sleep 1; rm -rf \"$0\"; }");

    /// <summary>Triggers the cleanup without waiting for it.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref released, 1) == 0)
        {
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The watchdog is already gone (killed from outside): nothing left to signal.
            }
        }
    }

    /// <summary>Triggers the cleanup and waits until the server is gone and its directory deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Release();
        using var deadline = new CancellationTokenSource(CleanupTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The server watchdog did not finish its cleanup within {CleanupTimeout}.");
        }
        finally
        {
            process.Dispose();
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => Release();
}
