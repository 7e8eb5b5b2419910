using System.Net;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Calls;

/// <summary>The CSV export on each store (<see cref="SqliteCallExportTests"/>).</summary>
public abstract class CallExportTests : StoreTestBase
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);

    private const string Header =
        "call_id,started_at,answered_at,ended_at,direction,status,agent_id,from_number,to_number,remote_number,contact_external_id,"
        + "contact_display_name,ring_seconds,billsec,talk_seconds,hangup_cause,end_reason,campaign_id,lead_id";

    private static async Task<(HttpResponseMessage Response, string[] Lines)> ExportAsync(HttpClient crm, string query = "")
    {
        var response = await crm.GetAsync("/api/v1/calls/export.csv" + query, HttpCompletionOption.ResponseHeadersRead);
        // Written as it is read, so no length is known when the response starts.
        Assert.Null(response.Content.Headers.ContentLength);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.EndsWith("\r\n", body, StringComparison.Ordinal);
        return (response, body[..^2].Split("\r\n"));
    }

    [Fact]
    public async Task Export_quotes_as_RFC_4180_and_defuses_formulas_but_keeps_canonical_numbers()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await SeedCall.InsertAsync(Factory, tenantId,
            new SeedCall("e1", T0)
            {
                FromNumber = "=HYPERLINK(\"http://evil\",\"x\")", ToNumber = "@SUM(1)", RemoteNumber = "+84912345678",
                AnsweredAfterSeconds = 5, EndedAfterSeconds = 47, RingSeconds = 5, Billsec = 41, HangupCause = "-1+2",
                CampaignId = "a,b", LeadId = "line1\nline2", Matches = ["@k"], ContactName = "Bob \"The Caller\"",
            },
            new SeedCall("e2", T0.AddHours(1)) { Status = "missed", FromNumber = "+84 987 654 321", RemoteNumber = "+84987654321", HangupCause = "\tx\ry" });

        var (response, lines) = await ExportAsync(crm);

        Assert.Equal("text/csv; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Matches("^\"?calls-[0-9]{8}T[0-9]{6}Z\\.csv\"?$", response.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal(
        [
            Header,
            "e2,2026-11-20T09:00:00.000Z,,,inbound,missed,agent-1,'+84 987 654 321,,+84987654321,,,,,,\"'\tx\ry\",,,",
            "e1,2026-11-20T08:00:00.000Z,2026-11-20T08:00:05.000Z,2026-11-20T08:00:47.000Z,inbound,answered,agent-1,"
                + "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",'@SUM(1),+84912345678,'@k,\"Bob \"\"The Caller\"\"\",5,41,42,'-1+2,,\"a,b\",\"line1\nline2\"",
        ], lines);
    }

    /// <summary>
    /// Spreadsheets in locales whose list separator is <c>;</c> split an unquoted cell at it, which shifts every later
    /// column and can start a new cell with a formula; numeric columns stay bare numbers whatever the locale.
    /// </summary>
    [Fact]
    public async Task Export_quotes_fields_with_semicolons_and_defuses_a_formula_after_one_while_numbers_stay_numbers()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await SeedCall.InsertAsync(Factory, tenantId,
            new SeedCall("e;1", T0)
            {
                FromNumber = "0912345678;=cmd|' /C calc'!A0", RemoteNumber = "+84912345678", AnsweredAfterSeconds = 5, EndedAfterSeconds = 47,
                RingSeconds = 5, Billsec = 41, HangupCause = "a;b", CampaignId = "=1;2", LeadId = "+1;2",
            });

        var (_, lines) = await ExportAsync(crm);

        Assert.Equal(
            "\"e;1\",2026-11-20T08:00:00.000Z,2026-11-20T08:00:05.000Z,2026-11-20T08:00:47.000Z,inbound,answered,agent-1,"
                + "\"0912345678;=cmd|' /C calc'!A0\",,+84912345678,,,5,41,42,\"a;b\",,\"'=1;2\",\"'+1;2\"",
            lines[1]);
    }

    [Fact]
    public async Task Export_streams_every_call_in_chunks_with_the_list_filters_and_this_account_only()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        const int Count = 2500; // two and a half chunks
        await SeedCall.InsertAsync(Factory, tenantId, Enumerable.Range(0, Count)
            .Select(i => new SeedCall($"x{i:0000}", T0.AddSeconds(i)) { Status = i % 5 == 0 ? "missed" : "answered" }).ToArray());
        var (otherId, _) = await CreateTenantAsync(Factory, "Globex");
        await SeedCall.InsertAsync(Factory, otherId, new SeedCall("x0005", T0.AddSeconds(5)), new SeedCall("globex", T0));

        var (_, lines) = await ExportAsync(crm);

        Assert.Equal(Header, lines[0]);
        Assert.Equal(
            Enumerable.Range(0, Count).Reverse().Select(i => $"x{i:0000}"),
            lines.Skip(1).Select(line => line[..line.IndexOf(',', StringComparison.Ordinal)]));

        var (_, missed) = await ExportAsync(crm, "?status=missed&from=2026-11-20T08:00:10Z&to=2026-11-20T08:00:30Z");
        Assert.Equal(["x0025", "x0020", "x0015", "x0010"], missed.Skip(1).Select(line => line[..5]));
    }

    /// <summary>
    /// The response starts before the last chunk is read: the test host's response pipe holds about 64 KiB,
    /// so with the first chunk far bigger than that the hub is still writing it when the headers arrive.
    /// A call inserted then is found by the later chunk if it sorts after the cursor, and never if before.
    /// </summary>
    [Fact]
    public async Task Export_begins_answering_before_it_has_read_every_chunk()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        var bulky = new string('c', 400);
        await SeedCall.InsertAsync(Factory, tenantId, Enumerable.Range(0, 1500)
            .Select(i => new SeedCall($"x{i:0000}", T0.AddSeconds(i)) { CampaignId = bulky }).ToArray());

        using var response = await crm.GetAsync("/api/v1/calls/export.csv", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await SeedCall.InsertAsync(Factory, tenantId, new SeedCall("late-older", T0.AddHours(-1)), new SeedCall("late-newer", T0.AddDays(1)));
        var lines = (await response.Content.ReadAsStringAsync()).TrimEnd().Split("\r\n");

        Assert.Equal(1502, lines.Length);
        Assert.StartsWith("x1499,", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("late-older,", lines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, line => line.StartsWith("late-newer", StringComparison.Ordinal));
    }
}
