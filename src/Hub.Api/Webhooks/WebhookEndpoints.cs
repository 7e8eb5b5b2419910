using System.Security.Claims;
using System.Text.RegularExpressions;
using Hub.Api.Audit;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Consumers.Outbound;
using Hub.Consumers.Webhooks;

namespace Hub.Api.Webhooks;

/// <summary>
/// <c>/api/v1/webhooks</c> (scope <c>webhooks</c>): subscriptions of the working account, their delivery log,
/// redelivery and re-enabling. Another account's webhook is a 404, as if it did not exist.
/// </summary>
internal static partial class WebhookEndpoints
{
    public const string Created = "webhook.created";
    public const string Deleted = "webhook.deleted";
    public const string Enabled = "webhook.enabled";

    private const int MaxEventTypes = 50;
    private const int DefaultLimit = 50;
    private const int MaxLimit = 200;

    public static IEndpointRouteBuilder MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        var webhooks = app.MapGroup("/api/v1/webhooks").WithTags("Webhooks").RequireAuthorization(HubPolicies.Scope(Scopes.Webhooks));
        webhooks.MapPost("/", CreateAsync);
        webhooks.MapGet("/", (WorkingAccount account, WebhookStore store, CancellationToken cancellationToken) =>
            store.ListAsync(account.TenantId, null, cancellationToken));
        webhooks.MapGet("/{id}", (string id, WorkingAccount account, WebhookStore store, CancellationToken cancellationToken) =>
            store.GetAsync(account.TenantId, id, cancellationToken));
        webhooks.MapDelete("/{id}", DeleteAsync);
        webhooks.MapPost("/{id}/enable", EnableAsync);
        webhooks.MapGet("/{id}/deliveries", DeliveriesAsync);
        webhooks.MapPost("/{id}/deliveries/{deliveryId}/redeliver", RedeliverAsync);
        return app;
    }

    public static IServiceCollection AddHubWebhooks(this IServiceCollection services)
    {
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookDeliveryLog>();
        return services;
    }

    /// <summary>The secret is in this response only; the hub keeps it encrypted.</summary>
    private static async Task<IResult> CreateAsync(CreateWebhookRequest request, WorkingAccount account, ClaimsPrincipal user, AuditLog audit,
        WebhookStore store, WebhookSecrets secrets, WebhookSubscriptionCache cache, OutboundTargets targets, CancellationToken cancellationToken)
    {
        var events = ValidateEvents(request.Events);
        Uri url;
        try
        {
            url = await WebhookTargets.ValidateAsync(request.Url?.Trim(), targets, cancellationToken);
        }
        catch (WebhookTargetException exception)
        {
            // One detail for every DNS-dependent refusal (point 13): the precise reason is in the operator's log.
            throw HubProblemException.BadRequest(exception.Code, exception.Message);
        }

        var id = WebhookIds.NewSubscriptionId();
        var secret = WebhookSecrets.NewSecret();
        // Encrypted before a connection is opened: loading the key ring may need the store itself.
        var secretProtected = secrets.Protect(account.TenantId, id, secret);
        var webhook = await store.CreateAsync(account.TenantId, id, url, events, secretProtected, cancellationToken);
        cache.Forget();
        await audit.RecordAsync(user, account.TenantId, Created, id,
            new Dictionary<string, object?> { ["url"] = webhook.Url, ["events"] = events }, cancellationToken);
        return Results.Created($"/api/v1/webhooks/{id}",
            new CreatedWebhookResponse(id, webhook.Url, webhook.Events, webhook.Enabled, secret, webhook.CreatedAt));
    }

    private static async Task<IResult> DeleteAsync(string id, WorkingAccount account, ClaimsPrincipal user, AuditLog audit, WebhookStore store,
        WebhookSubscriptionCache cache, CancellationToken cancellationToken)
    {
        await store.DeleteAsync(account.TenantId, id, cancellationToken);
        cache.Forget();
        await audit.RecordAsync(user, account.TenantId, Deleted, id, null, cancellationToken);
        return Results.NoContent();
    }

    /// <summary>Re-enables a disabled endpoint; what was pending for it is attempted at once.</summary>
    private static async Task<WebhookResponse> EnableAsync(string id, WorkingAccount account, ClaimsPrincipal user, AuditLog audit, WebhookStore store,
        WebhookSubscriptionCache cache, WebhookDispatchSignal dispatcher, CancellationToken cancellationToken)
    {
        await store.EnableAsync(account.TenantId, id, cancellationToken);
        cache.Forget();
        dispatcher.Wake();
        await audit.RecordAsync(user, account.TenantId, Enabled, id, null, cancellationToken);
        return await store.GetAsync(account.TenantId, id, cancellationToken);
    }

    private static async Task<WebhookDeliveryPage> DeliveriesAsync(string id, WorkingAccount account, WebhookStore store, WebhookDeliveryLog log,
        CancellationToken cancellationToken, string? status = null, int? limit = null, string? cursor = null)
    {
        if (status is not null && !WebhookDeliveryLog.Statuses.Contains(status))
        {
            throw HubProblemException.BadRequest("invalid_query", $"status must be one of {string.Join(", ", WebhookDeliveryLog.Statuses)}.");
        }

        var take = limit ?? DefaultLimit;
        if (take is < 1 or > MaxLimit)
        {
            throw HubProblemException.BadRequest("invalid_query", $"limit must be between 1 and {MaxLimit}.");
        }

        await store.GetAsync(account.TenantId, id, cancellationToken);
        return await log.ReadAsync(account.TenantId, id, status, take, cursor, cancellationToken);
    }

    private static async Task<IResult> RedeliverAsync(string id, string deliveryId, WorkingAccount account, WebhookStore store,
        WebhookDispatchSignal dispatcher, CancellationToken cancellationToken)
    {
        await store.RedeliverAsync(account.TenantId, id, deliveryId, cancellationToken);
        dispatcher.Wake();
        return Results.Accepted(value: new RedeliveryResponse(deliveryId, "pending"));
    }

    /// <summary>
    /// <c>["*"]</c> or event type names. Types the hub does not know yet are accepted: unknown webphone
    /// events are forwarded too.
    /// </summary>
    private static List<string> ValidateEvents(IReadOnlyList<string>? events)
    {
        if (events is null || events.Count == 0 || events.Count > MaxEventTypes)
        {
            throw HubProblemException.BadRequest("invalid_webhook_events", $"events must list 1 to {MaxEventTypes} event types, or \"*\" for all.");
        }

        foreach (var type in events)
        {
            if (type != ActiveWebhook.AllEvents && (type is null || !EventTypePattern().IsMatch(type)))
            {
                throw HubProblemException.BadRequest("invalid_webhook_events", $"\"{type}\" is not an event type (lowercase letters, digits and _).");
            }
        }

        return events.Distinct(StringComparer.Ordinal).ToList();
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex EventTypePattern();
}
