using System.Text.Json;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store.Config;
using Hub.Store.Contacts;

namespace Hub.Api.Contacts;

public sealed record ContactInput(string? ExternalId, string? DisplayName, string? Company, string? Email, IReadOnlyList<string>? Phones,
    string? Url, JsonElement? CustomFields);

public sealed record UpsertContactsResponse(int Upserted);

public sealed record ContactError(int Index, string Field, string Message);

internal static class ContactEndpoints
{
    public const int MaxBatch = 1000;
    private const int MaxCustomFieldsBytes = 16 * 1024;

    public static void MapContactEndpoints(this IEndpointRouteBuilder app)
    {
        var contacts = app.MapGroup("/api/v1/contacts").WithTags("Contacts").RequireAuthorization(HubPolicies.Scope(Scopes.Contacts));
        contacts.MapPut("/", UpsertAsync);
        contacts.MapGet("/", FindAsync);
        contacts.MapGet("/{externalId}", GetAsync);
        contacts.MapDelete("/{externalId}", DeleteAsync);
    }

    /// <summary>All or nothing: one invalid item refuses the request with every item's errors listed.</summary>
    private static async Task<UpsertContactsResponse> UpsertAsync(IReadOnlyList<ContactInput?> items, WorkingAccount account, ContactDirectory directory,
        TenantConfigReader configs, CancellationToken cancellationToken)
    {
        if (items.Count > MaxBatch)
        {
            throw HubProblemException.BadRequest("invalid_contacts", $"At most {MaxBatch} contacts per request.");
        }

        var errors = new List<ContactError>();
        for (var i = 0; i < items.Count; i++)
        {
            errors.AddRange(Validate(i, items[i]));
        }

        var duplicate = items.OfType<ContactInput>().GroupBy(item => item.ExternalId, StringComparer.Ordinal).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            errors.Add(new ContactError(items.ToList().LastIndexOf(duplicate.Last()), "external_id", $"external_id {duplicate.Key} appears more than once."));
        }

        if (errors.Count > 0)
        {
            throw HubProblemException.BadRequest("invalid_contacts", $"{errors.Count} problem(s) in the contacts; nothing was saved.",
                new Dictionary<string, object?> { ["errors"] = errors });
        }

        var config = await configs.ReadAsync(account.TenantId, cancellationToken);
        var contacts = items.Select(item => new Contact
        {
            ExternalId = item!.ExternalId!,
            DisplayName = item.DisplayName!.Trim(),
            Company = item.Company,
            Email = item.Email,
            Phones = item.Phones ?? [],
            Url = item.Url,
            CustomFields = item.CustomFields is { ValueKind: JsonValueKind.Object } fields ? fields : null,
        }).ToList();
        return new UpsertContactsResponse(await directory.UpsertAsync(account.TenantId, contacts, configs.CountryCodeOf(config.Config), cancellationToken));
    }

    private static IEnumerable<ContactError> Validate(int index, ContactInput? item)
    {
        if (item is null)
        {
            yield return new ContactError(index, "", "must be an object");
            yield break;
        }

        if (item.ExternalId is not { Length: > 0 and <= 128 } || item.ExternalId.Any(char.IsControl))
        {
            yield return new ContactError(index, "external_id", "required, 1 to 128 characters");
        }

        if (string.IsNullOrWhiteSpace(item.DisplayName) || item.DisplayName.Length > 256)
        {
            yield return new ContactError(index, "display_name", "required, at most 256 characters");
        }

        if (item.Company is { Length: > 256 })
        {
            yield return new ContactError(index, "company", "at most 256 characters");
        }

        if (item.Email is { Length: > 320 })
        {
            yield return new ContactError(index, "email", "at most 320 characters");
        }

        if (item.Phones is { Count: > 20 })
        {
            yield return new ContactError(index, "phones", "at most 20 numbers");
        }

        foreach (var phone in item.Phones ?? [])
        {
            if (phone is not { Length: > 0 and <= 64 })
            {
                yield return new ContactError(index, "phones", "each number is 1 to 64 characters");
            }
        }

        if (item.Url is not null && !IsWebUrl(item.Url))
        {
            yield return new ContactError(index, "url", "must be an absolute http(s) URL");
        }

        if (item.CustomFields is { } fields && fields.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            yield return new ContactError(index, "custom_fields", "must be a JSON object");
        }
        else if (item.CustomFields is { ValueKind: JsonValueKind.Object } custom && System.Text.Encoding.UTF8.GetByteCount(custom.GetRawText()) > MaxCustomFieldsBytes)
        {
            yield return new ContactError(index, "custom_fields", $"at most {MaxCustomFieldsBytes / 1024} KiB");
        }
    }

    private static bool IsWebUrl(string url) =>
        url.Length <= 2048 && Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    /// <summary>Contacts matching a number the way a screen-pop matches it.</summary>
    private static async Task<IReadOnlyList<Contact>> FindAsync(string? phone, WorkingAccount account, ContactDirectory directory,
        TenantConfigReader configs, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(phone))
        {
            throw HubProblemException.BadRequest("invalid_query", "Give ?phone= with the number to look up.");
        }

        var config = await configs.ReadAsync(account.TenantId, cancellationToken);
        return await directory.FindByPhoneAsync(account.TenantId, phone, configs.CountryCodeOf(config.Config), agentId: null, cancellationToken);
    }

    private static async Task<Contact> GetAsync(string externalId, WorkingAccount account, ContactDirectory directory, CancellationToken cancellationToken) =>
        await directory.GetAsync(account.TenantId, externalId, cancellationToken)
        ?? throw HubProblemException.NotFound("contact_not_found", $"No contact {externalId} in this account.");

    private static async Task<IResult> DeleteAsync(string externalId, WorkingAccount account, ContactDirectory directory, CancellationToken cancellationToken) =>
        await directory.DeleteAsync(account.TenantId, externalId, cancellationToken)
            ? Results.NoContent()
            : throw HubProblemException.NotFound("contact_not_found", $"No contact {externalId} in this account.");
}
