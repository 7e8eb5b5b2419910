using System.Reflection;

namespace Hub.Tests.Support;

/// <summary>Where the repository is, and the Api/Workers builds of the calling assembly's configuration (the bench's Release, the tests' Debug).</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Configuration { get; } =
        typeof(Repository).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    public static string Build(string project) =>
        Path.Combine(Root, "src", project, "bin", Configuration, "net10.0", project + ".dll");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Hub.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"Hub.sln not found above {AppContext.BaseDirectory}; run the bench and the tests from the repository.");
    }
}
