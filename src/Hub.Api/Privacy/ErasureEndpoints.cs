using System.Security.Claims;
using Hub.Api.Audit;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Store.Config;
using Hub.Store.Phones;

namespace Hub.Api.Privacy;

public sealed record ErasureRequest(string? Number);

/// <summary>What an erasure changed: calls erased, their events erased (and gone from the stream), contacts that lost a phone.</summary>
public sealed record ErasureResponse(int Calls, int Events, int Contacts);

/// <summary><c>POST /api/v1/privacy/erasures</c>: a caller asks to be forgotten (API.md section 7, docs/privacy.md).</summary>
internal static class ErasureEndpoints
{
    public static void MapPrivacyEndpoints(this IEndpointRouteBuilder app)
    {
        // Scope admin or calls:write: an admin key holds every scope (HubClaims.HasScope).
        app.MapPost("/api/v1/privacy/erasures", EraseAsync).WithTags("Privacy").RequireAuthorization(HubPolicies.Scope(Scopes.CallsWrite));
    }

    private static async Task<ErasureResponse> EraseAsync(ErasureRequest request, WorkingAccount account, ClaimsPrincipal user, HubDatabase database,
        TenantConfigReader configs, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        // A national number means the working account's country; the same E.164 is then erased in every descendant.
        var countryCode = configs.CountryCodeOf((await configs.ReadAsync(account.TenantId, cancellationToken)).Config);
        if (Phone.Normalise(request.Number, countryCode) is not { } number)
        {
            // The detail never repeats the number: problem bodies end up in logs.
            throw HubProblemException.BadRequest("invalid_number",
                "number must be a phone number (E.164 such as +84912345678, or national form in this account's default country).");
        }

        return await NumberErasure.EraseAsync(database, configs, clock, number, account.TenantId,
            (connection, transaction, erased) => audit.RecordAsync(connection, transaction, user, account.TenantId, AuditActions.NumberErased,
                "erasure:" + Guid.CreateVersion7().ToString("N"),
                new Dictionary<string, object?> { ["calls"] = erased.Calls, ["events"] = erased.Events, ["contacts"] = erased.Contacts }),
            cancellationToken);
    }
}
