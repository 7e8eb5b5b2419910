using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hub.ServiceDefaults;
using Hub.Store;
using Npgsql;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Hub.Tests.Deployment;

/// <summary>
/// No machine here runs a Docker engine, so docker-compose.yml, deploy/Dockerfile and
/// deploy/nginx/nginx.conf are checked by reading them: against each other and against the
/// configuration the processes read (<see cref="HubSettings"/>, the connection string names).
/// </summary>
public sealed partial class ComposeFileTests
{
    private const int AppPort = 8080;
    private static readonly string[] ApiServices = ["api-1", "api-2"];
    private static readonly string[] WorkerServices = ["workers-1", "workers-2"];
    private static readonly string[] AppServices = [.. ApiServices, .. WorkerServices];
    private static readonly string[] AllServices = ["rabbitmq", "postgres", .. AppServices, "proxy", "prometheus"];
    private static readonly string[] BackingServices = ["rabbitmq", "postgres"];
    private static readonly string[] ConnectionStringNames = ["RabbitMq", "Postgres", "Sqlite"];

    private readonly DeploymentFiles _deployment = DeploymentFiles.Load();

    [Fact]
    public void Compose_defines_the_broker_the_database_two_api_nodes_two_workers_the_proxy_and_prometheus()
    {
        Assert.Equal(AllServices.Order(StringComparer.Ordinal), _deployment.Services.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_image_is_pinned_to_an_exact_tag()
    {
        foreach (var (name, service) in _deployment.Services)
        {
            if (service.TryGetValue("image", out var image))
            {
                AssertPinned(Yaml.String(image), $"service {name}");
            }
            else
            {
                Assert.True(service.ContainsKey("build"), $"service {name} has neither an image nor a build");
            }
        }

        foreach (var stage in _deployment.Dockerfile.Stages.Where(stage => !_deployment.Dockerfile.IsStage(stage.BaseImage)))
        {
            AssertPinned(stage.BaseImage, $"Dockerfile stage {stage.Name}");
        }
    }

    [Fact]
    public void Every_service_has_a_health_check()
    {
        // The proxy too: it checks the path through nginx to an Api node.
        foreach (var (name, service) in _deployment.Services)
        {
            Assert.True(service.ContainsKey("healthcheck"), $"service {name} has no healthcheck");
            var test = Yaml.List(Yaml.Map(service["healthcheck"])["test"]).Select(Yaml.String).ToList();
            Assert.True(test.Count > 1 && test[0] is "CMD" or "CMD-SHELL", $"service {name}: healthcheck test must be [\"CMD\", ...] or [\"CMD-SHELL\", ...]");
        }
    }

    [Fact]
    public void Api_and_workers_check_their_readiness_endpoint_with_curl_on_the_port_they_listen_on()
    {
        foreach (var name in AppServices)
        {
            var test = Yaml.List(Yaml.Map(_deployment.Services[name]["healthcheck"])["test"]).Select(Yaml.String).ToList();
            Assert.Equal("curl", test[1]);
            var url = new Uri(test[^1]);
            Assert.Equal(AppPort, url.Port);
            Assert.Equal("/health/ready", url.AbsolutePath);
            Assert.Equal(AppPort.ToString(CultureInfo.InvariantCulture), _deployment.Environment(name)["ASPNETCORE_HTTP_PORTS"]);

            // The aspnet runtime image has no curl: the image built for the service must install it.
            var chain = _deployment.Dockerfile.Chain(BuildTarget(name));
            Assert.Contains(chain.SelectMany(stage => stage.Instructions), instruction =>
                instruction.Keyword == "RUN" && instruction.Arguments.Contains("install", StringComparison.Ordinal) && instruction.Arguments.Contains("curl", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Api_and_workers_start_after_the_broker_and_the_database_are_healthy()
    {
        foreach (var name in AppServices)
        {
            var dependsOn = Yaml.Map(_deployment.Services[name]["depends_on"]);
            foreach (var backing in BackingServices)
            {
                Assert.True(dependsOn.ContainsKey(backing), $"service {name} does not depend on {backing}");
                Assert.Equal("service_healthy", Yaml.String(Yaml.Map(dependsOn[backing])["condition"]));
            }
        }
    }

    [Fact]
    public void Api_and_workers_use_rabbitmq_and_postgres_by_their_compose_host_names_and_credentials()
    {
        var rabbit = _deployment.Environment("rabbitmq");
        var postgres = _deployment.Environment("postgres");
        foreach (var name in AppServices)
        {
            var environment = _deployment.Environment(name);
            Assert.Equal("rabbitmq", environment["Hub__Bus"]);

            var amqp = new Uri(environment["ConnectionStrings__RabbitMq"]);
            Assert.Equal("amqp", amqp.Scheme);
            Assert.Equal("rabbitmq", amqp.Host);
            Assert.Equal(5672, amqp.Port);
            Assert.Equal($"{rabbit["RABBITMQ_DEFAULT_USER"]}:{rabbit["RABBITMQ_DEFAULT_PASS"]}", Uri.UnescapeDataString(amqp.UserInfo));

            var npgsql = new NpgsqlConnectionStringBuilder(environment["ConnectionStrings__Postgres"]);
            Assert.Equal("postgres", npgsql.Host);
            Assert.Equal(5432, npgsql.Port);
            Assert.Equal(postgres["POSTGRES_USER"], npgsql.Username);
            Assert.Equal(postgres["POSTGRES_PASSWORD"], npgsql.Password);
            Assert.Equal(postgres["POSTGRES_DB"], npgsql.Database);
        }
    }

    [Fact]
    public void Api_nodes_have_distinct_node_ids_and_take_the_admin_key_from_a_required_variable()
    {
        var nodeIds = ApiServices.Select(name => _deployment.Environment(name)["Hub__NodeId"]).ToList();
        Assert.All(nodeIds, id => Assert.False(string.IsNullOrWhiteSpace(id)));
        Assert.Equal(nodeIds.Count, nodeIds.Distinct(StringComparer.OrdinalIgnoreCase).Count());

        foreach (var name in ApiServices)
        {
            // ${VAR:?message}: compose refuses to start without it, so no demo key ships in the file.
            Assert.Matches(@"^\$\{HUB_ADMIN_API_KEY:\?[^}]+\}$", _deployment.Environment(name)["Hub__AdminApiKey"]);
        }
    }

    [Fact]
    public void Every_Hub_variable_names_a_settable_HubSettings_property_and_converts_to_its_type()
    {
        // .NET configuration matches keys case-insensitively; "__" separates sections in env names.
        var prefix = HubSettings.Section + "__";
        foreach (var (service, key, value) in _deployment.AllEnvironment())
        {
            if (!key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var type = typeof(HubSettings);
            foreach (var segment in key[prefix.Length..].Split("__"))
            {
                type = SettingType(service, key, type, segment);
            }

            if (!value.Contains("${", StringComparison.Ordinal))
            {
                var exception = Record.Exception(() => TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value));
                Assert.True(exception is null, $"{service}: {key}='{value}' does not convert to {type.Name}");
            }
        }
    }

    /// <summary>The type one segment of a setting's name leads to: a property of a section, or an array's element.</summary>
    private static Type SettingType(string service, string key, Type section, string segment)
    {
        if (section.IsArray)
        {
            Assert.True(int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _), $"{service}: {key}: {segment} is no index of an array");
            return section.GetElementType()!;
        }

        Assert.True(section.IsClass && section != typeof(string), $"{service}: {key} goes below the scalar setting of type {section.Name}");
        var properties = section.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.SetMethod is { IsPublic: true })
            .ToDictionary(property => property.Name, StringComparer.OrdinalIgnoreCase);
        Assert.True(properties.TryGetValue(segment, out var property),
            $"{service}: {key}: {segment} is not a property of {section.Name} ({string.Join(", ", properties.Keys)})");
        return Nullable.GetUnderlyingType(property!.PropertyType) ?? property.PropertyType;
    }

    [Fact]
    public void Api_and_workers_share_one_key_ring_certificate_on_a_volume_all_of_them_mount()
    {
        const string setting = "Hub__DataProtection__Certificate";
        var paths = AppServices.Select(name => _deployment.Environment(name).GetValueOrDefault(setting)).ToList();
        Assert.All(paths, path => Assert.False(string.IsNullOrWhiteSpace(path), $"an Api node or worker has no {setting}"));
        var certificate = Assert.Single(paths.Distinct(StringComparer.Ordinal))!;
        var directory = Path.GetDirectoryName(certificate)!.Replace('\\', '/');

        var declared = Yaml.Map(_deployment.Document["volumes"]).Keys.ToHashSet(StringComparer.Ordinal);
        var sources = AppServices.Select(name =>
        {
            Assert.True(_deployment.Services[name].ContainsKey("volumes"), $"service {name} mounts no volume for {setting}");
            var mount = Yaml.List(_deployment.Services[name]["volumes"]).Select(volume => Yaml.String(volume).Split(':'))
                .SingleOrDefault(parts => parts.Length >= 2 && parts[1] == directory);
            Assert.True(mount is not null, $"service {name} mounts nothing on {directory}");
            return mount[0];
        }).ToList();
        var volume = Assert.Single(sources.Distinct(StringComparer.Ordinal));
        Assert.Contains(volume, declared);

        // An empty named volume takes the owner of its mount point: the image must give it to the non-root user.
        foreach (var name in AppServices)
        {
            Assert.Contains(_deployment.Dockerfile.Chain(BuildTarget(name)).SelectMany(stage => stage.Instructions), instruction =>
                instruction.Keyword == "RUN" && instruction.Arguments.Contains($"chown app:app {directory}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Every_connection_string_is_one_the_processes_read()
    {
        const string prefix = "ConnectionStrings__";
        foreach (var (service, key, _) in _deployment.AllEnvironment().Where(entry => entry.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
        {
            Assert.True(ConnectionStringNames.Contains(key[prefix.Length..], StringComparer.OrdinalIgnoreCase),
                $"{service}: {key} is not one of {string.Join(", ", ConnectionStringNames)}");
        }
    }

    [Fact]
    public void Proxy_publishes_a_host_port_to_nginx_which_balances_both_api_nodes_sticky_by_client()
    {
        var proxy = _deployment.Services["proxy"];
        var (published, target) = Assert.Single(Yaml.List(proxy["ports"]).Select(Ports.Parse));
        Assert.InRange(published, 1, 65535);
        Assert.Contains($"listen {target};", _deployment.NginxConf, StringComparison.Ordinal);

        Assert.Contains(Yaml.List(proxy["volumes"]).Select(Yaml.String),
            volume => volume.StartsWith("./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf", StringComparison.Ordinal));
        var dependsOn = Yaml.Map(proxy["depends_on"]);
        foreach (var api in ApiServices)
        {
            Assert.Equal("service_healthy", Yaml.String(Yaml.Map(dependsOn[api])["condition"]));
        }

        var upstream = UpstreamBlock().Match(_deployment.NginxConf);
        Assert.True(upstream.Success, "nginx.conf has no upstream block");
        var upstreamName = upstream.Groups["name"].Value;
        var servers = ServerLine().Matches(upstream.Groups["body"].Value).Select(match => match.Groups["address"].Value).ToList();
        Assert.Equal(ApiServices.Select(api => $"{api}:{AppPort}").Order(StringComparer.Ordinal), servers.Order(StringComparer.Ordinal));
        // SignalR's negotiate and the connection it names must reach the same node.
        Assert.Contains("ip_hash;", upstream.Groups["body"].Value, StringComparison.Ordinal);

        // Every location but the one that keeps /metrics inside.
        foreach (Match location in LocationBlock().Matches(_deployment.NginxConf).Where(location => location.Groups["path"].Value != HubTelemetry.MetricsPath))
        {
            Assert.Contains($"proxy_pass http://{upstreamName};", location.Groups["body"].Value, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Nginx_upgrades_websockets_on_the_hub_path_and_streams_events_unbuffered()
    {
        var conf = _deployment.NginxConf;
        Assert.Matches(@"map\s+\$http_upgrade\s+\$connection_upgrade\s*\{", conf);

        var hubs = Location("/hubs/");
        Assert.Contains("proxy_http_version 1.1;", hubs, StringComparison.Ordinal);
        Assert.Matches(@"proxy_set_header\s+Upgrade\s+\$http_upgrade;", hubs);
        Assert.Matches(@"proxy_set_header\s+Connection\s+\$connection_upgrade;", hubs);
        Assert.Matches(@"proxy_read_timeout\s+\d{4,}s;", hubs);

        var stream = Location("/api/v1/events/stream");
        Assert.Contains("proxy_buffering off;", stream, StringComparison.Ordinal);
        Assert.Matches(@"proxy_read_timeout\s+\d{4,}s;", stream);

        // proxy_set_header is inherited only by locations that set none, so each that does repeats these.
        foreach (var body in new[] { hubs, stream })
        {
            Assert.Matches(@"proxy_set_header\s+Host\s+\$host;", body);
            Assert.Matches(@"proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;", body);
            Assert.Matches(@"proxy_set_header\s+X-Forwarded-Proto\s+\$scheme;", body);
        }
    }

    [Fact]
    public void Prometheus_scrapes_every_api_node_and_worker_on_its_app_port_and_nginx_keeps_metrics_inside()
    {
        var prometheus = _deployment.Services["prometheus"];
        var mounts = Yaml.List(prometheus["volumes"]).Select(Yaml.String).ToList();
        Assert.Contains("./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro", mounts);
        // Published on loopback only.
        Assert.All(Yaml.List(prometheus["ports"]).Select(Yaml.String), port => Assert.StartsWith("127.0.0.1:", port));

        var config = Yaml.Map(new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(Path.Combine(_deployment.RepoRoot, "deploy/prometheus/prometheus.yml")))!);
        var targets = Yaml.List(config["scrape_configs"]).Select(Yaml.Map)
            .Where(job => Yaml.String(job["metrics_path"]) == HubTelemetry.MetricsPath)
            .SelectMany(job => Yaml.List(job["static_configs"]).Select(Yaml.Map).SelectMany(group => Yaml.List(group["targets"]).Select(Yaml.String)))
            .Order(StringComparer.Ordinal);
        Assert.Equal(AppServices.Select(service => $"{service}:{AppPort}").Order(StringComparer.Ordinal), targets);

        Assert.Contains("return 404;", Location("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public void Nginx_access_log_leaves_out_the_query_string_that_carries_access_token()
    {
        var conf = _deployment.NginxConf;
        var formats = LogFormat().Matches(conf).ToDictionary(match => match.Groups["name"].Value, match => match.Groups["body"].Value, StringComparer.Ordinal);
        var accessLogs = AccessLog().Matches(conf).Select(match => match.Groups["arguments"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

        // Without an access_log directive nginx logs in "combined", whose $request holds the query.
        Assert.NotEmpty(accessLogs);
        foreach (var arguments in accessLogs.Where(arguments => arguments[0] != "off"))
        {
            Assert.True(arguments.Length > 1 && formats.ContainsKey(arguments[1]), $"access_log {string.Join(' ', arguments)} does not name a log_format of nginx.conf");
            Assert.DoesNotMatch(@"\$(request|request_uri|query_string|args|arg_\w+|is_args)\b", formats[arguments[1]]);
            Assert.Contains("$uri", formats[arguments[1]], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Dockerfile_builds_the_targets_compose_names_with_their_entry_points_as_a_non_root_user()
    {
        var expected = new Dictionary<string, string>(StringComparer.Ordinal) { ["api"] = "Hub.Api.dll", ["workers"] = "Hub.Workers.dll" };
        foreach (var name in AppServices)
        {
            var build = Yaml.Map(_deployment.Services[name]["build"]);
            Assert.Equal(".", Yaml.String(build["context"]));
            Assert.Equal("deploy/Dockerfile", Yaml.String(build["dockerfile"]));
            var target = BuildTarget(name);
            Assert.Equal(name.StartsWith("api-", StringComparison.Ordinal) ? "api" : "workers", target);

            var chain = _deployment.Dockerfile.Chain(target);
            var entrypoint = JsonSerializer.Deserialize<string[]>(chain.Last(stage => stage.Has("ENTRYPOINT")).Last("ENTRYPOINT"));
            Assert.Equal(["dotnet", expected[target]], entrypoint ?? []);

            var user = chain.Last(stage => stage.Has("USER")).Last("USER");
            Assert.DoesNotContain(user.Split(':')[0], new[] { "root", "0" });
            Assert.Contains(chain.SelectMany(stage => stage.Instructions), instruction => instruction.Keyword == "EXPOSE" && instruction.Arguments == AppPort.ToString(CultureInfo.InvariantCulture));
            Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:", chain[0].BaseImage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Named_volumes_used_by_services_are_declared()
    {
        var declared = Yaml.Map(_deployment.Document["volumes"]).Keys.ToHashSet(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, service) in _deployment.Services)
        {
            if (!service.TryGetValue("volumes", out var volumes))
            {
                continue;
            }

            foreach (var source in Yaml.List(volumes).Select(volume => Yaml.String(volume).Split(':')[0]))
            {
                if (!source.StartsWith('.') && !source.StartsWith('/'))
                {
                    Assert.True(declared.Contains(source), $"service {name} uses the undeclared volume {source}");
                    used.Add(source);
                }
            }
        }

        Assert.Equal(declared.Order(StringComparer.Ordinal), used.Order(StringComparer.Ordinal));
        foreach (var backing in BackingServices)
        {
            Assert.Contains(Yaml.List(_deployment.Services[backing]["volumes"]).Select(Yaml.String), volume => declared.Contains(volume.Split(':')[0]));
        }
    }

    [Fact]
    public void Docker_build_context_leaves_out_build_outputs_and_local_data()
    {
        var lines = File.ReadAllLines(Path.Combine(_deployment.RepoRoot, ".dockerignore")).Select(line => line.Trim()).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in new[] { "**/bin/", "**/obj/", "**/node_modules/", "**/data/", "**/TestResults/", ".git/" })
        {
            Assert.Contains(entry, lines);
        }
    }

    private string BuildTarget(string service) => Yaml.String(Yaml.Map(_deployment.Services[service]["build"])["target"]);

    private string Location(string path)
    {
        var location = LocationBlock().Matches(_deployment.NginxConf).FirstOrDefault(match => match.Groups["path"].Value == path);
        Assert.True(location is not null, $"nginx.conf has no location {path}");
        return location.Groups["body"].Value;
    }

    private static void AssertPinned(string image, string where)
    {
        // name[:tag][@digest]; the tag is after the last ':' that follows the last '/' (a registry may have a port).
        var withoutDigest = image.Split('@')[0];
        var colon = withoutDigest.LastIndexOf(':');
        var tag = colon > withoutDigest.LastIndexOf('/') ? withoutDigest[(colon + 1)..] : "";
        Assert.False(string.IsNullOrEmpty(tag), $"{where}: image {image} has no tag");
        Assert.NotEqual("latest", tag, StringComparer.OrdinalIgnoreCase);
        Assert.True(tag.Any(char.IsAsciiDigit), $"{where}: image tag {tag} names no version");
    }

    [GeneratedRegex(@"log_format\s+(?<name>[\w-]+)\s+(?<body>[^;]*);")]
    private static partial Regex LogFormat();

    [GeneratedRegex(@"access_log\s+(?<arguments>[^;]*);")]
    private static partial Regex AccessLog();

    [GeneratedRegex(@"upstream\s+(?<name>[\w-]+)\s*\{(?<body>[^}]*)\}")]
    private static partial Regex UpstreamBlock();

    [GeneratedRegex(@"^\s*server\s+(?<address>[^\s;]+)[^;]*;", RegexOptions.Multiline)]
    private static partial Regex ServerLine();

    [GeneratedRegex(@"location\s+(?:=\s*)?(?<path>[^\s{]+)\s*\{(?<body>[^}]*)\}")]
    private static partial Regex LocationBlock();

    /// <summary>The repo's deployment files, read once per test.</summary>
    private sealed class DeploymentFiles
    {
        public required string RepoRoot { get; init; }

        public required IReadOnlyDictionary<string, object?> Document { get; init; }

        public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> Services { get; init; }

        public required Dockerfile Dockerfile { get; init; }

        public required string NginxConf { get; init; }

        public static DeploymentFiles Load()
        {
            var root = FindRepoRoot();
            // MergingParser resolves the `<<: *anchor` merge keys compose files use.
            using var reader = new StreamReader(Path.Combine(root, "docker-compose.yml"));
            var document = Yaml.Map(new DeserializerBuilder().Build().Deserialize<object>(new MergingParser(new Parser(reader))));
            return new DeploymentFiles
            {
                RepoRoot = root,
                Document = document,
                Services = Yaml.Map(document["services"]).ToDictionary(pair => pair.Key, pair => Yaml.Map(pair.Value), StringComparer.Ordinal),
                Dockerfile = Dockerfile.Parse(File.ReadAllText(Path.Combine(root, "deploy", "Dockerfile"))),
                NginxConf = StripComments(File.ReadAllText(Path.Combine(root, "deploy", "nginx", "nginx.conf"))),
            };
        }

        /// <summary>A service's environment, in either of compose's forms (map, or list of NAME=value).</summary>
        public Dictionary<string, string> Environment(string service)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (!Services[service].TryGetValue("environment", out var environment))
            {
                return result;
            }

            if (environment is IDictionary<object, object> map)
            {
                foreach (var (key, value) in map)
                {
                    result[Yaml.String(key)] = Yaml.String(value);
                }
            }
            else
            {
                foreach (var entry in Yaml.List(environment).Select(Yaml.String))
                {
                    var equals = entry.IndexOf('=', StringComparison.Ordinal);
                    result[equals < 0 ? entry : entry[..equals]] = equals < 0 ? "" : entry[(equals + 1)..];
                }
            }

            return result;
        }

        public IEnumerable<(string Service, string Key, string Value)> AllEnvironment() =>
            Services.Keys.SelectMany(service => Environment(service).Select(pair => (service, pair.Key, pair.Value)));

        private static string FindRepoRoot()
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Hub.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException($"No Hub.sln above {AppContext.BaseDirectory}");
        }

        private static string StripComments(string conf) =>
            string.Join('\n', conf.Split('\n').Select(line => line.IndexOf('#', StringComparison.Ordinal) is var hash and >= 0 ? line[..hash] : line));
    }

    private static class Yaml
    {
        public static IReadOnlyDictionary<string, object?> Map(object? node) => node is IDictionary<object, object?> map
            ? map.ToDictionary(pair => String(pair.Key), pair => pair.Value, StringComparer.Ordinal)
            : throw new InvalidOperationException($"Expected a YAML mapping, got {node?.GetType().Name ?? "null"}");

        public static IReadOnlyList<object?> List(object? node) => node is IList<object?> list
            ? list.ToList()
            : throw new InvalidOperationException($"Expected a YAML sequence, got {node?.GetType().Name ?? "null"}");

        public static string String(object? node) => node as string
            ?? throw new InvalidOperationException($"Expected a YAML scalar, got {node?.GetType().Name ?? "null"}");
    }

    private static class Ports
    {
        /// <summary>compose's short ("[ip:]host:container[/proto]") or long ({published, target}) port syntax.</summary>
        public static (int Published, int Target) Parse(object? node)
        {
            if (node is IDictionary<object, object?>)
            {
                var map = Yaml.Map(node);
                return (int.Parse(Yaml.String(map["published"]), CultureInfo.InvariantCulture), int.Parse(Yaml.String(map["target"]), CultureInfo.InvariantCulture));
            }

            var parts = Yaml.String(node).Split('/')[0].Split(':');
            Assert.True(parts.Length >= 2, $"port {Yaml.String(node)} publishes no host port");
            return (int.Parse(parts[^2], CultureInfo.InvariantCulture), int.Parse(parts[^1], CultureInfo.InvariantCulture));
        }
    }

    private sealed record Instruction(string Keyword, string Arguments);

    private sealed record Stage(string Name, string BaseImage, IReadOnlyList<Instruction> Instructions)
    {
        public bool Has(string keyword) => Instructions.Any(instruction => instruction.Keyword == keyword);

        public string Last(string keyword) => Instructions.Last(instruction => instruction.Keyword == keyword).Arguments;
    }

    /// <summary>Just enough of a Dockerfile: stages (FROM image [AS name]) and their instructions.</summary>
    private sealed class Dockerfile(IReadOnlyList<Stage> stages)
    {
        public IReadOnlyList<Stage> Stages { get; } = stages;

        public bool IsStage(string name) => Stages.Any(stage => string.Equals(stage.Name, name, StringComparison.OrdinalIgnoreCase));

        /// <summary>The stage and those it is built FROM, base first.</summary>
        public List<Stage> Chain(string target)
        {
            var chain = new List<Stage>();
            for (var stage = Find(target); ; stage = Find(stage.BaseImage))
            {
                chain.Insert(0, stage);
                if (!IsStage(stage.BaseImage))
                {
                    return chain;
                }
            }
        }

        private Stage Find(string name) =>
            Stages.SingleOrDefault(stage => string.Equals(stage.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new Xunit.Sdk.XunitException($"The Dockerfile has no stage named {name}");

        public static Dockerfile Parse(string text)
        {
            var stages = new List<(string Name, string Base, List<Instruction> Instructions)>();
            foreach (var line in LogicalLines(text))
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                var keyword = (space < 0 ? line : line[..space]).ToUpperInvariant();
                var arguments = space < 0 ? "" : line[(space + 1)..].Trim();
                if (keyword == "FROM")
                {
                    var words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(word => !word.StartsWith("--", StringComparison.Ordinal)).ToList();
                    var name = words.Count == 3 && string.Equals(words[1], "AS", StringComparison.OrdinalIgnoreCase) ? words[2] : $"#{stages.Count}";
                    stages.Add((name, words[0], []));
                }
                else
                {
                    Assert.True(stages.Count > 0, $"Dockerfile: {keyword} before FROM");
                    stages[^1].Instructions.Add(new Instruction(keyword, arguments));
                }
            }

            return new Dockerfile(stages.Select(stage => new Stage(stage.Name, stage.Base, stage.Instructions)).ToList());
        }

        /// <summary>Lines without comments, continuation lines (trailing backslash) joined.</summary>
        private static IEnumerable<string> LogicalLines(string text)
        {
            var pending = "";
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.Trim();
                if (line.StartsWith('#') || line.Length == 0)
                {
                    continue;
                }

                if (line.EndsWith('\\'))
                {
                    pending += line[..^1] + " ";
                    continue;
                }

                yield return pending + line;
                pending = "";
            }

            if (pending.Length > 0)
            {
                yield return pending.Trim();
            }
        }
    }
}
