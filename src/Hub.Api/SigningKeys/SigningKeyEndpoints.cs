using System.Security.Claims;
using Hub.Api.Audit;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;

namespace Hub.Api.SigningKeys;

internal static class SigningKeyEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/api/v1/embed-signing-keys").WithTags("Embed signing keys").RequireAuthorization(HubPolicies.Scope(Scopes.Tokens));
        keys.MapPost("/", CreateAsync);
        keys.MapGet("/", ListAsync);
        keys.MapDelete("/{id}", DeleteAsync);
    }

    /// <summary>The secret is in this response only; the hub keeps it encrypted.</summary>
    private static async Task<IResult> CreateAsync(WorkingAccount account, ClaimsPrincipal user, AuditLog audit, EmbedSigningKeys keys, CancellationToken cancellationToken)
    {
        // Whoever holds a signing key's secret signs SSO tokens with any role, analyst included, and an
        // analyst session reads the account's call log: the same rule as minting an analyst embed token.
        if (!user.HasScope(Scopes.CallsRead))
        {
            throw HubProblemException.Forbidden("insufficient_scope",
                "Creating an embed signing key needs the 'calls:read' (or 'admin') scope as well as 'tokens': its tokens may sign in analysts, who read the account's call log.");
        }

        var created = await keys.CreateAsync(account.TenantId, cancellationToken);
        await audit.RecordAsync(user, account.TenantId, AuditActions.SigningKeyCreated, created.Id, null, cancellationToken);
        return Results.Created($"/api/v1/embed-signing-keys/{created.Id}", created);
    }

    private static Task<IReadOnlyList<SigningKeyInfo>> ListAsync(WorkingAccount account, EmbedSigningKeys keys, CancellationToken cancellationToken) =>
        keys.ListAsync(account.TenantId, cancellationToken);

    private static async Task<IResult> DeleteAsync(string id, WorkingAccount account, ClaimsPrincipal user, AuditLog audit, EmbedSigningKeys keys,
        CancellationToken cancellationToken)
    {
        if (!await keys.DeleteAsync(account.TenantId, id, cancellationToken))
        {
            throw HubProblemException.NotFound("embed_signing_key_not_found", $"No embed signing key {id} in this account.");
        }

        await audit.RecordAsync(user, account.TenantId, AuditActions.SigningKeyDeleted, id, null, cancellationToken);
        return Results.NoContent();
    }
}
