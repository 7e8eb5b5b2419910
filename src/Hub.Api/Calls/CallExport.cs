using System.Globalization;
using System.Text;
using Hub.Api.Auth;
using Hub.Store;
using Hub.Store.Config;

namespace Hub.Api.Calls;

/// <summary>
/// <c>GET /api/v1/calls/export.csv</c>: every call the filters select, newest first, as RFC 4180 CSV
/// (UTF-8, CRLF, a header row). Calls are read in keyset chunks and each chunk is written and flushed
/// before the next is read, so memory stays at one chunk whatever the size of the export. A chunk is
/// read completely before it is written: on SQLite the store is one connection that the call log also
/// needs, and it must never wait on a slow download.
/// </summary>
internal static class CallExport
{
    internal const int ChunkSize = 1000;

    private static readonly string[] Header =
    [
        "call_id", "started_at", "answered_at", "ended_at", "direction", "status", "agent_id", "from_number", "to_number",
        "remote_number", "contact_external_id", "contact_display_name", "ring_seconds", "billsec", "talk_seconds",
        "hangup_cause", "end_reason", "campaign_id", "lead_id",
    ];

    public static async Task WriteAsync(
        HttpContext context, WorkingAccount account, HubDatabase database, TenantConfigReader configs, TimeProvider clock, CancellationToken cancellationToken)
    {
        // Every check runs before the first byte: a bad filter is still a problem+json answer.
        var filter = await CallFilter.ParseAsync(context.Request.Query, account.TenantId, configs, cancellationToken);

        var response = context.Response;
        response.ContentType = "text/csv; charset=utf-8";
        response.Headers.ContentDisposition =
            $"attachment; filename=\"calls-{clock.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.csv\"";

        var line = new StringBuilder(512);
        await using var writer = new StreamWriter(response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024);
        line.AppendJoin(',', Header).Append("\r\n");
        await writer.WriteAsync(line, cancellationToken);

        long? afterStarted = null;
        string? afterCallId = null;
        List<CallRow> chunk;
        do
        {
            chunk = await CallEndpoints.ReadPageAsync(database, filter, afterStarted, afterCallId, ChunkSize, cancellationToken);
            foreach (var row in chunk)
            {
                line.Clear();
                AppendRow(line, row);
                await writer.WriteAsync(line, cancellationToken);
            }

            await writer.FlushAsync(cancellationToken);
            if (chunk.Count > 0)
            {
                (afterStarted, afterCallId) = (chunk[^1].StartedAt, chunk[^1].CallId);
            }
        }
        while (chunk.Count == ChunkSize);
    }

    private static void AppendRow(StringBuilder line, CallRow row)
    {
        CsvField.Append(line, row.CallId);
        line.Append(',').Append(Time(row.StartedAt));
        line.Append(',').Append(Time(row.AnsweredAt));
        line.Append(',').Append(Time(row.EndedAt));
        foreach (var text in (string?[])[row.Direction, row.Status, row.AgentId, row.FromNumber, row.ToNumber, row.RemoteNumber, row.ContactExternalId, row.ContactDisplayName])
        {
            line.Append(',');
            CsvField.Append(line, text);
        }

        line.Append(',').Append(row.RingSeconds?.ToString(CultureInfo.InvariantCulture));
        line.Append(',').Append(row.Billsec?.ToString(CultureInfo.InvariantCulture));
        line.Append(',').Append(row.TalkSeconds?.ToString(CultureInfo.InvariantCulture));
        foreach (var text in (string?[])[row.HangupCause, row.EndReason, row.CampaignId, row.LeadId])
        {
            line.Append(',');
            CsvField.Append(line, text);
        }

        line.Append("\r\n");
    }

    private static string? Time(long? ms) =>
        ms is { } value ? Clock.FromMs(value).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : null;
}
