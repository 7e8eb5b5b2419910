using Hub.Api.Tenants;
using Hub.Store;

namespace Hub.Api.Auth;

/// <summary>
/// <c>Hub.Api rotate-admin-key</c> (<c>dotnet run --project src/Hub.Api -- rotate-admin-key</c>): mints a
/// new generated admin key, revokes the old one, keeps the new one in <c>&lt;data&gt;/admin-api-key</c> and
/// prints it once, then exits without serving. Safe beside a running hub on the same store: every
/// request looks its key up, so the old key stops working there at once.
/// </summary>
internal static class AdminKeyCommand
{
    public const string Name = "rotate-admin-key";

    /// <summary>Runs the command when the arguments ask for it; false means serve as usual.</summary>
    public static async Task<bool> TryRunAdminKeyCommandAsync(this WebApplication app, string[] args)
    {
        if (!args.Contains(Name, StringComparer.Ordinal))
        {
            return false;
        }

        await app.Services.PrepareStoreAsync(CancellationToken.None);
        var bootstrap = app.Services.GetRequiredService<TenantBootstrap>();
        try
        {
            var key = await bootstrap.RotateGeneratedAdminKeyAsync(CancellationToken.None);
            Console.WriteLine($"  New admin API key (shown once, kept in {bootstrap.AdminKeyFile}):\n    {key}");
            Console.WriteLine("  The previous admin key is revoked.");
        }
        catch (InvalidOperationException refused)
        {
            await Console.Error.WriteLineAsync(refused.Message);
            Environment.ExitCode = 1;
        }

        return true;
    }
}
