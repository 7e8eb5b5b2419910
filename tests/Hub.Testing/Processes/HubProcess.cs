using System.Diagnostics;
using System.Globalization;
using Hub.Tests.Fixtures;

namespace Hub.Tests.Support;

/// <summary>
/// Hub.Api or Hub.Workers as its own process (<c>dotnet Hub.Api.dll</c>, as production runs it), configured
/// only through environment variables, its console in a log file next to the report.
/// </summary>
public sealed class HubProcess : IAsyncDisposable
{
    public const string AdminKey = "hubk_bench_admin_key_0123456789abcdef";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);

    // Each process runs in its own bin directory, so the default (./data) would give each its own certificate
    // and the second to start would refuse the key ring; one per test or bench run, created by the first process.
    private static readonly string KeyRingCertificate =
        Path.Combine(Path.GetTempPath(), $"hub-bench-keys-{Guid.NewGuid():N}", "data-protection.pfx");

    private readonly Process _process;
    private readonly StreamWriter _log;

    private HubProcess(Process process, StreamWriter log, string url, string logPath)
    {
        _process = process;
        _log = log;
        Url = url;
        LogPath = logPath;
        // Ctrl+C or a crash of the bench must not leave Hub processes behind.
        AppDomain.CurrentDomain.ProcessExit += KillOnExit;
    }

    public string Url { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;

    /// <summary>Settings every node shares: a known admin key, no rate limits (the bench is one client), warnings only.</summary>
    public static Dictionary<string, string> Common() => new(StringComparer.Ordinal)
    {
        ["Hub__AdminApiKey"] = AdminKey,
        ["Hub__Demo__Enabled"] = "false",
        ["Hub__RateLimits__PerKeyPerMinute"] = "0",
        ["Hub__RateLimits__PerSessionPerMinute"] = "0",
        ["Hub__RateLimits__AnonymousPerMinute"] = "0",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
    };

    public static Dictionary<string, string> Production(string postgres, string rabbitMq)
    {
        var environment = Common();
        environment["Hub__Bus"] = "rabbitmq";
        environment["ConnectionStrings__Postgres"] = postgres;
        environment["ConnectionStrings__RabbitMq"] = rabbitMq;
        environment["Hub__DataProtection__Certificate"] = KeyRingCertificate;
        return environment;
    }

    public static async Task<HubProcess> StartAsync(string project, string name, IReadOnlyDictionary<string, string> environment, string logDirectory)
    {
        var dll = Repository.Build(project);
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build with `dotnet build Hub.sln -c {Repository.Configuration}` (dotnet run of the bench and ./test.sh build it).");
        }

        var port = ServerProcess.FreePorts(1)[0];
        var url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            ArgumentList = { dll, "--urls", url },
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        Directory.CreateDirectory(logDirectory);
        var logPath = Path.Combine(logDirectory, name + ".log");
        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {dll}.");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var hub = new HubProcess(process, log, url, logPath);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await ServerProcess.WaitUntilAsync(
                $"{name} at {url}",
                async () =>
                {
                    try
                    {
                        return (await http.GetAsync(url + "/health/ready")).IsSuccessStatusCode;
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        return false;
                    }
                },
                ReadyTimeout,
                () => ServerProcess.Tail(logPath),
                process);
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }

        return hub;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL, as a crash or the kernel's OOM killer ends a process: no shutdown code runs. Returns once it is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Resident memory of the process (VmRSS), in bytes.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    private void KillOnExit(object? sender, EventArgs e)
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already disposed: nothing left to stop.
        }
    }

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= KillOnExit;
        if (!_process.HasExited)
        {
            // SIGTERM: the host stops gracefully (presence rows, bus), as an orchestrator would stop it.
            await ServerProcess.SignalAsync("TERM", _process.Id);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            if (log.BaseStream.CanWrite)
            {
                log.WriteLine(line);
            }
        }
    }
}
