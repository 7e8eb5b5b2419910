using System.Globalization;
using System.Text;
using Hub.Api.Infrastructure;
using Hub.Store.Config;
using Hub.Store.Phones;
using Microsoft.Extensions.Primitives;

namespace Hub.Api.Calls;

/// <summary>
/// The filters the call list, stats and CSV export share (docs/calls.md). Every value is checked before
/// any query runs: a bad one is <c>400 invalid_query</c> naming the parameter.
/// </summary>
internal sealed record CallFilter(
    string TenantId, long? From, long? To, string? AgentId, string? Remote, string? Direction, string? Status, string? Contact)
{
    private static readonly string[] Directions = ["inbound", "outbound"];
    private static readonly string[] Statuses = ["ringing", "in_progress", "answered", "missed", "failed"];

    /// <summary>The linked contact as the list shows it: the one the agent picked, else the only match.</summary>
    public const string ContactExpression = "COALESCE(p.picked_external_id, CASE WHEN p.match_count = 1 THEN p.primary_external_id END)";

    /// <summary>The calls (alias <c>c</c>) and their screen-pops (alias <c>p</c>, for the contact).</summary>
    public const string Source = "calls c LEFT JOIN screen_pops p ON p.tenant_id = c.tenant_id AND p.call_id = c.call_id";

    public static async Task<CallFilter> ParseAsync(IQueryCollection query, string tenantId, TenantConfigReader configs, CancellationToken cancellationToken)
    {
        var number = Single(query, "number");
        string? remote = null;
        if (!string.IsNullOrWhiteSpace(number))
        {
            var config = await configs.ReadCachedAsync(tenantId, cancellationToken);
            remote = Phone.Normalise(number, configs.CountryCodeOf(config.Config))?.E164 ?? number;
        }

        var from = Time(query, "from");
        var to = Time(query, "to");
        return new CallFilter(
            tenantId, from, to, NonEmpty(query, "agent_id"), remote,
            OneOf(query, "direction", Directions), OneOf(query, "status", Statuses), NonEmpty(query, "contact"));
    }

    /// <summary>Appends <c>WHERE …</c> for these filters to a query over <see cref="Source"/>.</summary>
    public StringBuilder AppendWhere(StringBuilder sql)
    {
        sql.Append(" WHERE c.tenant_id = @TenantId");
        if (From is not null)
        {
            sql.Append(" AND c.started_at >= @From");
        }
        if (To is not null)
        {
            sql.Append(" AND c.started_at < @To");
        }
        if (AgentId is not null)
        {
            sql.Append(" AND c.agent_id = @AgentId");
        }
        if (Remote is not null)
        {
            sql.Append(" AND c.remote_number = @Remote");
        }
        if (Direction is not null)
        {
            sql.Append(" AND c.direction = @Direction");
        }
        if (Status is not null)
        {
            sql.Append(" AND c.status = @Status");
        }
        // p.tenant_id = … lets PostgreSQL turn the outer join into an inner one (COALESCE is not strict),
        // so it can start from the screen-pops' contact index.
        if (Contact is not null)
        {
            sql.Append(" AND p.tenant_id = @TenantId AND ").Append(ContactExpression).Append(" = @Contact");
        }
        return sql;
    }

    public static HubProblemException Invalid(string parameter, string detail) =>
        HubProblemException.BadRequest("invalid_query", $"{parameter}: {detail}", new Dictionary<string, object?> { ["parameter"] = parameter });

    /// <summary>The value of a parameter given at most once; repeating one is an error rather than a guess.</summary>
    public static string? Single(IQueryCollection query, string name)
    {
        var values = query.TryGetValue(name, out var value) ? value : StringValues.Empty;
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => throw Invalid(name, "give it at most once."),
        };
    }

    private static string? NonEmpty(IQueryCollection query, string name) =>
        Single(query, name) is { } value && value.Length > 0
            ? value.Length <= 128 ? value : throw Invalid(name, "at most 128 characters.")
            : null;

    private static string? OneOf(IQueryCollection query, string name, string[] allowed) =>
        Single(query, name) is { Length: > 0 } value
            ? allowed.Contains(value, StringComparer.Ordinal) ? value : throw Invalid(name, $"must be one of {string.Join(", ", allowed)}.")
            : null;

    private static long? Time(IQueryCollection query, string name) =>
        Single(query, name) is { Length: > 0 } value
            ? DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
                ? time.ToUnixTimeMilliseconds()
                : throw Invalid(name, "must be an ISO-8601 date-time such as 2026-11-21T00:00:00Z.")
            : null;
}
