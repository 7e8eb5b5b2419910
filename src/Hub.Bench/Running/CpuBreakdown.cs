using System.Diagnostics;
using System.Globalization;

namespace Hub.Bench.Running;

/// <summary>
/// Where the machine's CPU went between two snapshots of /proc: each named process tree's user + system time
/// (its live processes' own and what their reaped children used), everything else from the machine's busy time
/// in /proc/stat, and its idle share. Every process of the topology shares the same cores, so a figure is only
/// understood next to the others.
/// </summary>
public sealed class CpuBreakdown
{
    /// <summary>Processes counted under one name: the trees under <see cref="Roots"/>, or with <see cref="Tree"/> false the roots alone.</summary>
    public sealed record Source(string Name, Func<IEnumerable<int>> Roots, bool Tree = true);

    // USER_HZ, the unit of every time in /proc: a fixed part of the kernel ABI (`getconf CLK_TCK`), 100 on every
    // architecture .NET runs on, and .NET has no sysconf to ask.
    private const double TicksPerSecond = 100;

    private readonly IReadOnlyList<Source> _sources;
    private readonly Snapshot _before;
    private readonly long _started = Stopwatch.GetTimestamp();
    private (Snapshot Snapshot, TimeSpan Elapsed)? _after;

    private CpuBreakdown(IReadOnlyList<Source> sources)
    {
        _sources = sources;
        _before = Take(sources);
    }

    /// <summary>The hub's processes, the server containers' trees (none for a server the bench did not start) and the bench itself.</summary>
    public static CpuBreakdown Start(Servers servers, params (string Name, int Pid)[] hub) =>
        new([
            .. hub.Select(h => new Source(h.Name, () => [h.Pid])),
            .. servers.CpuSources(),
            // Not its tree: the hub's processes and the RabbitMQ node are the bench's children.
            new Source("bench agents", () => [Environment.ProcessId], Tree: false),
        ]);

    /// <summary>
    /// Takes the second snapshot (on the first call) and says what each source used, in seconds, per event and as
    /// a share of the machine, e.g. "CPU during ingest (22.3 s × 2 cores = 44.6 core-s): Hub.Api 11.4 s (26 %, 0.24 ms/event), …; idle 3 %".
    /// </summary>
    public string Describe(string during, long events)
    {
        _after ??= (Take(_sources), Stopwatch.GetElapsedTime(_started));
        var (after, elapsed) = _after.Value;
        var total = after.Total - _before.Total;
        var cores = after.Cores;
        string Part(string name, double ticks) =>
            $"{name} {ticks / TicksPerSecond:0.0} s ({Share(ticks, total)}" +
            (events > 0 ? $", {ticks / TicksPerSecond * 1000 / events:0.00} ms/event)" : ")");

        var parts = new List<string>();
        double named = 0;
        for (var i = 0; i < _sources.Count; i++)
        {
            var used = after.Used[i] - _before.Used[i];
            named += used;
            parts.Add(Part(_sources[i].Name, used));
        }

        // Kernel work no process is charged for (softirq: loopback TCP), other programs, and the clock's rounding.
        var busy = after.Busy - _before.Busy;
        parts.Add(Part("everything else", Math.Max(0, busy - named)));
        var steal = after.Steal - _before.Steal;
        return $"CPU during {during} ({elapsed.TotalSeconds:0.0} s × {cores} cores = {elapsed.TotalSeconds * cores:0.0} core-s, " +
            $"{events:#,0} events): {string.Join(", ", parts)}; idle {Share(after.Idle - _before.Idle, total)}" +
            (steal > 0 ? $", stolen by the hypervisor {Share(steal, total)}" : "");
    }

    private static string Share(double ticks, double total) =>
        total > 0 ? (ticks / total).ToString("0%", CultureInfo.InvariantCulture) : "?";

    private sealed record Snapshot(double[] Used, double Busy, double Idle, double Steal, double Total, int Cores);

    private static Snapshot Take(IReadOnlyList<Source> sources)
    {
        var processes = Processes();
        var children = processes.ToLookup(p => p.Value.Parent, p => p.Key);
        var claimed = new HashSet<int>();
        var used = new double[sources.Count];
        for (var i = 0; i < sources.Count; i++)
        {
            var pending = new Stack<int>(sources[i].Roots());
            while (pending.TryPop(out var pid))
            {
                // A process in two trees (a root that is another's descendant) counts once, for the first source.
                if (!processes.TryGetValue(pid, out var process) || !claimed.Add(pid))
                {
                    continue;
                }

                used[i] += process.Ticks;
                if (sources[i].Tree)
                {
                    foreach (var child in children[pid])
                    {
                        pending.Push(child);
                    }
                }
            }
        }

        // cpu user nice system idle iowait irq softirq steal (guest time is already in user).
        var lines = File.ReadAllLines("/proc/stat");
        var cpu = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(Ticks).ToArray();
        var cores = lines.Count(l => l.Length > 3 && l.StartsWith("cpu", StringComparison.Ordinal) && char.IsAsciiDigit(l[3]));
        return new Snapshot(used, cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6], cpu[3] + cpu[4], cpu[7], cpu.Sum(), cores);
    }

    /// <summary>Every process's parent and utime + stime + cutime + cstime: a child that ends is charged to its parent once reaped.</summary>
    private static Dictionary<int, (int Parent, double Ticks)> Processes()
    {
        var processes = new Dictionary<int, (int, double)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Ended between the listing and the read.
                continue;
            }

            // The command name may hold spaces and parentheses: the fields start after the last ')', at field 3 (state).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            processes[pid] = (int.Parse(fields[1], CultureInfo.InvariantCulture), fields[11..15].Sum(Ticks));
        }

        return processes;
    }

    private static double Ticks(string field) => long.Parse(field, CultureInfo.InvariantCulture);
}
