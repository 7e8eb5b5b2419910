using System.Text.Json;
using Dapper;
using Hub.Consumers.Telemetry;
using Hub.Contracts;
using Hub.Store;
using Hub.Store.Config;
using Hub.Store.Contacts;
using Hub.Store.Phones;
using Hub.Consumers.ScreenPop.CrmLookup;
using MassTransit;

namespace Hub.Consumers.ScreenPop;

/// <summary>
/// Matches an incoming caller against the tenant's contacts and asks the Api nodes to show the result
/// to the agent. One pop per call: the pop is recorded before it is published, so a duplicate event
/// pops nothing. Only a message that an earlier attempt may have recorded without publishing (a retry,
/// or a redelivery after a worker died) publishes a recorded pop again: a pop may then show twice,
/// never not at all. That costs no write after the publish on the pop's path.
/// </summary>
/// <remarks>
/// A caller no contact matches is looked up in the account's CRM when it has <c>crm_lookup.url</c>
/// (<see cref="CrmLookupService"/>). The pop never waits for the CRM longer than <c>timeout_ms</c> from
/// the start of this consumer: a slow, failing or unreachable CRM gives an unknown-caller pop, never
/// none. The CRM's matches are shown like contacts but not stored as contacts.
/// </remarks>
public sealed class ScreenPopConsumer(HubDatabase database, ContactDirectory contacts, TenantConfigReader configs, CrmLookupService crm,
    ConsumerMetrics metrics, TimeProvider clock) : IConsumer<IncomingCallReceived>
{
    public async Task Consume(ConsumeContext<IncomingCallReceived> context)
    {
        var started = clock.GetTimestamp();
        var message = context.Message;
        var cancellationToken = context.CancellationToken;
        var config = (await configs.ReadCachedAsync(message.TenantId, cancellationToken)).Config;
        var countryCode = configs.CountryCodeOf(config);
        var matches = await contacts.FindByPhoneAsync(message.TenantId, message.Number, countryCode, message.AgentId, cancellationToken);

        var recordTemplate = config.ScreenPop?.RecordUrlTemplate;
        var popMatches = matches.Select(contact => new ScreenPopMatch
        {
            ExternalId = contact.ExternalId,
            DisplayName = contact.DisplayName,
            Company = contact.Company,
            Url = contact.Url ?? UrlTemplate.Expand(recordTemplate, Placeholders(message, contact.ExternalId)),
            CustomFields = contact.CustomFields,
        }).ToList();

        if (popMatches.Count == 0
            && CrmLookupTarget.From(config.CrmLookup) is { } target
            && Phone.Normalise(message.Number, countryCode) is { } number)
        {
            var request = new CrmLookupRequest(message.TenantId, number.E164, message.Number, message.AgentId, message.CallId!);
            var lookupStarted = clock.GetTimestamp();
            var found = await crm.LookupAsync(target, request, target.Timeout - clock.GetElapsedTime(started), cancellationToken);
            metrics.CrmLookup(JsonNamingPolicy.SnakeCaseLower.ConvertName(found.Status.ToString()), clock.GetElapsedTime(lookupStarted));
            popMatches = found.Matches
                .Select(match => match with { Url = match.Url ?? UrlTemplate.Expand(recordTemplate, Placeholders(message, match.ExternalId)) })
                .ToList();
        }

        var pop = new ShowScreenPop
        {
            TenantId = message.TenantId,
            AgentId = message.AgentId,
            CallId = message.CallId!,
            Number = message.Number,
            UnknownCaller = popMatches.Count == 0,
            Url = popMatches.Count > 0
                ? popMatches[0].Url
                : UrlTemplate.Expand(config.ScreenPop?.NewContactUrlTemplate, Placeholders(message, null)),
            Matches = popMatches,
            CreatedAt = clock.GetUtcNow(),
            EventReceivedAt = message.ReceivedAt,
        };

        if (!await RecordAsync(pop, cancellationToken) && !MayHaveFailedBeforePublishing(context))
        {
            return;
        }

        await context.Publish(pop, cancellationToken);
    }

    private static bool MayHaveFailedBeforePublishing(ConsumeContext context) =>
        context.GetRetryAttempt() > 0 || context.ReceiveContext.Redelivered;

    private static Dictionary<string, string?> Placeholders(IncomingCallReceived message, string? externalId) => new(StringComparer.Ordinal)
    {
        ["external_id"] = externalId,
        ["number"] = message.Number,
        ["call_id"] = message.CallId,
        ["agent_id"] = message.AgentId,
        ["tenant_id"] = message.TenantId,
    };

    /// <summary>True when this call had no pop yet.</summary>
    private async Task<bool> RecordAsync(ShowScreenPop pop, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO screen_pops (tenant_id, call_id, agent_id, number, unknown_caller, primary_external_id, primary_display_name, matches, match_count, created_at)
            VALUES (@TenantId, @CallId, @AgentId, @Number, @unknown, @primaryId, @primaryName, @matches, @matchCount, @createdAt)
            ON CONFLICT (tenant_id, call_id) DO NOTHING
            """,
            new
            {
                pop.TenantId, pop.CallId, pop.AgentId, pop.Number,
                unknown = pop.UnknownCaller ? 1 : 0,
                primaryId = pop.Matches.FirstOrDefault()?.ExternalId,
                primaryName = pop.Matches.FirstOrDefault()?.DisplayName,
                matches = JsonSerializer.Serialize(pop.Matches.Select(match => match.ExternalId)),
                matchCount = pop.Matches.Count,
                createdAt = pop.CreatedAt.ToUnixTimeMilliseconds(),
            }, cancellationToken: cancellationToken)) > 0;
    }
}
