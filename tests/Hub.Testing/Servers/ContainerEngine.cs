using System.Diagnostics;
using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;

namespace Hub.Tests.Fixtures;

/// <summary>
/// What the server fixtures share about the Docker engine: which image to run (the official one when it
/// can be pulled, else the one tests/containers/build-images.sh built from Debian's packages), ports
/// published on loopback only, and removing this process's containers when it exits. Testcontainers'
/// resource reaper (Ryuk) needs an image of its own; where the official images cannot be pulled it cannot
/// be pulled either, so it is turned off and containers carry labels that say which process owns them.
/// </summary>
internal static class ContainerEngine
{
    public const string Host = "127.0.0.1";
    public const string OwnerLabel = "hub-test.owner-pid";

    public const string Hint =
        "The test servers run in Docker containers. Run ./test.sh (it installs docker.io and starts dockerd " +
        "when no engine is reachable, and builds the images), or set " +
        $"{RabbitMqFixture.UrlVariable} / {PostgresFixture.ConnectionStringVariable} to use existing servers.";

    private static readonly Lazy<Task> Ready = new(PrepareAsync);
    private static readonly Dictionary<string, Lazy<Task<string>>> Images = [];
    private static readonly Dictionary<IContainer, Process?> Started = [];

    /// <summary>The official image if present or pullable, else the locally built one (tag <c>:local</c>).</summary>
    public static async Task<string> ImageAsync(string official, string local)
    {
        await Ready.Value;
        Lazy<Task<string>> choice;
        lock (Images)
        {
            if (!Images.TryGetValue(official, out choice!))
            {
                choice = new Lazy<Task<string>>(() => ChooseAsync(official, local));
                Images[official] = choice;
            }
        }
        return await choice.Value;
    }

    /// <summary>
    /// The settings every server container gets: the owner label, and each published port on the host's
    /// loopback only (Docker's default is every address, and test servers must not be reachable from outside).
    /// </summary>
    public static TBuilder Configure<TBuilder, TContainer, TConfiguration>(
        ContainerBuilder<TBuilder, TContainer, TConfiguration> builder)
        where TBuilder : ContainerBuilder<TBuilder, TContainer, TConfiguration>
        where TContainer : IContainer
        where TConfiguration : IContainerConfiguration =>
        builder
            .WithLabel(OwnerLabel, Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
            .WithCreateParameterModifier(parameters =>
            {
                foreach (var binding in (parameters.HostConfig?.PortBindings?.Values ?? []).SelectMany(b => b))
                {
                    binding.HostIP = Host;
                }
            });

    /// <summary>Starts (or starts again) the container; it is removed when this process ends, if nothing removed it before.</summary>
    public static async Task StartAsync(IContainer container)
    {
        try
        {
            await container.StartAsync();
        }
        catch (DockerUnavailableException exception)
        {
            throw new InvalidOperationException($"No Docker engine is reachable ({exception.Message}). {Hint}", exception);
        }
        catch
        {
            // Created but never ready (a wait strategy timed out): nobody would remove it.
            await container.DisposeAsync();
            throw;
        }
        lock (Started)
        {
            if (!Started.ContainsKey(container))
            {
                Started[container] = StartWatchdog(container.Id);
            }
        }
    }

    /// <summary>The container was removed: its watchdog has nothing left to do.</summary>
    public static void Forget(IContainer container)
    {
        Process? watchdog;
        lock (Started)
        {
            Started.Remove(container, out watchdog);
        }
        watchdog?.Kill();
        watchdog?.Dispose();
    }

    /// <summary>The host's process id of the container's first process (for the bench's CPU figures).</summary>
    public static async Task<int> ProcessIdAsync(IContainer container)
    {
        using var client = Client();
        var inspection = await client.Containers.InspectContainerAsync(container.Id);
        return (int)(inspection.State?.Pid ?? throw new InvalidOperationException($"Container {container.Id} has no state."));
    }

    /// <summary>SIGKILL to the container's processes: no clean shutdown, as a crash or power loss would be.</summary>
    public static async Task KillAsync(IContainer container)
    {
        using var client = Client();
        await client.Containers.KillContainerAsync(container.Id, new ContainerKillParameters { Signal = "KILL" });
    }

    /// <summary>
    /// Stops a server's container for real, gracefully (docker stop: SIGTERM) or, when <paramref name="abrupt"/>,
    /// with SIGKILL, and waits until its published <paramref name="port"/> is closed.
    /// </summary>
    public static async Task StopAsync(IContainer container, bool abrupt, int port, string what)
    {
        if (abrupt)
        {
            await KillAsync(container);
        }
        // After a kill too: Testcontainers then knows the container is stopped, and can start it again.
        await container.StopAsync();
        await ServerProcess.WaitUntilAsync($"{what} on port {port} stopping", async () => !await ServerProcess.IsPortOpenAsync(port),
            TimeSpan.FromSeconds(60), () => "");
    }

    /// <summary>
    /// A shell, in its own session, that removes the container once this process is gone in any way: it
    /// reads a pipe only this process writes to, and the read returns when this process ends (vstest kills
    /// the test host right after the run, too soon for exit handlers). Without a docker CLI there is none;
    /// the next run's sweep of dead owners' containers, and test.sh, remove them instead.
    /// </summary>
    private static Process? StartWatchdog(string containerId)
    {
        var docker = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(directory => Path.Combine(directory, "docker"))
            .FirstOrDefault(File.Exists);
        if (docker is null || !File.Exists("/usr/bin/setsid"))
        {
            return null;
        }
        var info = new ProcessStartInfo("/usr/bin/setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            ArgumentList = { "/bin/sh", "-c", "cat >/dev/null; exec \"$0\" rm -f -v \"$1\" >/dev/null 2>&1", docker, containerId },
        };
        return Process.Start(info);
    }

    private static DockerClient Client() =>
        TestcontainersSettings.OS.DockerEndpointAuthConfig.GetDockerClientBuilder(Guid.NewGuid()).Build();

    private static async Task PrepareAsync()
    {
        await DockerApiVersion.MatchLocalEngineAsync();
        if (TestcontainersSettings.OS.DockerEndpointAuthConfig is null)
        {
            // Testcontainers' own exception says which endpoints it tried and why each failed.
            try
            {
                _ = new ContainerBuilder("none").Build();
            }
            catch (DockerUnavailableException exception)
            {
                throw new InvalidOperationException($"No Docker engine is reachable ({exception.Message}). {Hint}", exception);
            }
        }
        // Containers of test processes that ended without removing them (killed, crashed).
        using var client = Client();
        var leftovers = await client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [OwnerLabel] = true } },
        });
        foreach (var leftover in leftovers.Where(c => !IsAlive(c.Labels[OwnerLabel])))
        {
            await client.Containers.RemoveContainerAsync(leftover.ID, new ContainerRemoveParameters { Force = true, RemoveVolumes = true });
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveStarted();
    }

    private static async Task<string> ChooseAsync(string official, string local)
    {
        using var client = Client();
        if (await ExistsAsync(client, official))
        {
            return official;
        }
        try
        {
            var reference = official.Split(':');
            await client.Images.CreateImageAsync(
                new ImagesCreateParameters { FromImage = reference[0], Tag = reference.ElementAtOrDefault(1) ?? "latest" },
                null,
                new Progress<JSONMessage>());
            if (await ExistsAsync(client, official))
            {
                return official;
            }
        }
        catch (DockerApiException)
        {
            // No registry reachable: the locally built image below.
        }
        if (!await ExistsAsync(client, local))
        {
            throw new InvalidOperationException(
                $"Neither {official} (cannot be pulled here) nor {local} is available. " +
                "Build the local images with tests/containers/build-images.sh (as root the first time), or run ./test.sh.");
        }
        // Ryuk cannot be pulled either; the owner labels and the exit handler clean up instead.
        TestcontainersSettings.ResourceReaperEnabled = false;
        return local;
    }

    private static async Task<bool> ExistsAsync(DockerClient client, string image)
    {
        try
        {
            await client.Images.InspectImageAsync(image);
            return true;
        }
        catch (DockerImageNotFoundException)
        {
            return false;
        }
    }

    private static bool IsAlive(string pid) =>
        int.TryParse(pid, CultureInfo.InvariantCulture, out var id) && Directory.Exists($"/proc/{id}");

    private static void RemoveStarted()
    {
        IContainer[] containers;
        lock (Started)
        {
            containers = [.. Started.Keys];
        }
        // The process is exiting: nothing else is running, so waiting here is safe and short.
        Task.WhenAll(containers.Select(c => c.DisposeAsync().AsTask())).GetAwaiter().GetResult();
    }
}
