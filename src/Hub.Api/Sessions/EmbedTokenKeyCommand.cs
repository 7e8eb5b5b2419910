using Hub.Store;

namespace Hub.Api.Sessions;

/// <summary>
/// <c>Hub.Api rotate-embed-token-key</c> (<c>dotnet run --project src/Hub.Api -- rotate-embed-token-key</c>):
/// makes a new key for the hub's own embed tokens in the store, prints its kid (never the secret), then
/// exits without serving. Safe beside running Api nodes on the same store: each signs with the new key
/// within <see cref="HubSigningKey.CurrentKeyRefresh"/>, and tokens the old key signed stay valid until
/// they expire. Nothing to do after a suspected leak but run it: keys superseded longer than
/// <see cref="HubSigningKey.GraceWindow"/> ago verify nothing and are deleted at the next rotation.
/// </summary>
internal static class EmbedTokenKeyCommand
{
    public const string Name = "rotate-embed-token-key";

    /// <summary>Runs the command when the arguments ask for it; false means serve as usual.</summary>
    public static async Task<bool> TryRunEmbedTokenKeyCommandAsync(this WebApplication app, string[] args)
    {
        if (!args.Contains(Name, StringComparer.Ordinal))
        {
            return false;
        }

        await RunAsync(app.Services, Console.Out, CancellationToken.None);
        return true;
    }

    internal static async Task RunAsync(IServiceProvider services, TextWriter output, CancellationToken cancellationToken)
    {
        await services.PrepareStoreAsync(cancellationToken);
        var key = await services.GetRequiredService<HubSigningKey>().RotateAsync(cancellationToken);
        await output.WriteLineAsync($"  New embed token key {key.KeyId}, created {key.CreatedAt:u}; its secret is kept encrypted in the store.");
        await output.WriteLineAsync(
            $"  Api nodes sign with it within {HubSigningKey.CurrentKeyRefresh.TotalSeconds:0} s; tokens signed with the previous key " +
            $"are accepted until they expire (at most {HubSigningKey.GraceWindow.TotalMinutes:0} min).");
    }
}
