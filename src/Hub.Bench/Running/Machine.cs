using Hub.Tests.Support;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Hub.Tests.Fixtures;

namespace Hub.Bench.Running;

/// <summary>What the figures were measured on.</summary>
public static class Machine
{
    public static void Describe(IDictionary<string, string> facts)
    {
        facts["cores"] = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        facts["cpu"] = FirstValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        facts["memory"] = FirstValue("/proc/meminfo", "MemTotal") ?? "?";
        facts["os"] = FirstValue("/etc/os-release", "PRETTY_NAME", '=')?.Trim('"') ?? RuntimeInformation.OSDescription;
        facts["kernel"] = RuntimeInformation.OSDescription;
        facts[".NET"] = RuntimeInformation.FrameworkDescription;
        facts["load average at start"] = LoadAverage();
        facts["build"] = Repository.Configuration == "Release"
            ? "Release"
            : $"{Repository.Configuration}: not representative, run with -c Release";
    }

    /// <summary>The 1, 5 and 15 minute load averages.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    /// <summary>Lifts this process's open-file limit (children inherit it): one descriptor per socket, 20,000 agents.</summary>
    public static async Task RaiseFileLimitAsync()
    {
        var info = new ProcessStartInfo("prlimit") { ArgumentList = { "--pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--nofile=262144:262144" } };
        try
        {
            var (exitCode, output) = await ServerProcess.RunAsync(info, TimeSpan.FromSeconds(10));
            if (exitCode != 0)
            {
                Reporting.Progress.Line("setup", $"could not raise the open-file limit ({output.Trim()}); run `ulimit -n 65536` first for the connections scenario");
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Reporting.Progress.Line("setup", "prlimit (util-linux) not found; run `ulimit -n 65536` first for the connections scenario");
        }
    }

    private static string? FirstValue(string path, string key, char separator = ':')
    {
        if (!File.Exists(path))
        {
            return null;
        }

        foreach (var line in File.ReadLines(path))
        {
            var at = line.IndexOf(separator, StringComparison.Ordinal);
            if (at > 0 && line[..at].Trim() == key)
            {
                return line[(at + 1)..].Trim();
            }
        }

        return null;
    }
}
