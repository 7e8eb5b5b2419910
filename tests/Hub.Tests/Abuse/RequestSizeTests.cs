using System.Net;
using System.Net.Http.Json;
using System.Text;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Abuse;

/// <summary>REST bodies are held to 1 MiB (8 MiB for the contacts bulk upsert); more is refused with nothing stored.</summary>
public sealed class RequestSizeTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    /// <summary>Valid JSON (an empty object or array) padded with whitespace to this many bytes.</summary>
    private static string Padded(string open, string close, int bytes) => open + new string(' ', bytes - 2) + close;

    /// <summary>A body without Content-Length, sent chunked.</summary>
    private sealed class ChunkedContent(string text) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static async Task AssertConfigNotStoredAsync(HttpClient crm) =>
        Assert.True((await ReadAsync(await crm.GetAsync("/api/v1/config"), HttpStatusCode.OK))["inherited"]!.GetValue<bool>());

    [Fact]
    public async Task An_oversized_body_with_content_length_is_refused_413_payload_too_large_and_nothing_is_stored()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        using var content = new StringContent(Padded("{", "}", 2 * 1024 * 1024), Encoding.UTF8, "application/json");
        await AssertProblemAsync(await crm.PutAsync("/api/v1/config", content), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        await AssertConfigNotStoredAsync(crm);
    }

    [Fact]
    public async Task An_oversized_chunked_body_is_refused_413_payload_too_large_and_nothing_is_stored()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        using var content = new ChunkedContent(Padded("{", "}", 2 * 1024 * 1024));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        await AssertProblemAsync(await crm.PutAsync("/api/v1/config", content), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        await AssertConfigNotStoredAsync(crm);
    }

    [Fact]
    public async Task A_body_under_the_limit_is_accepted()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        using var content = new StringContent(Padded("{", "}", 512 * 1024), Encoding.UTF8, "application/json");
        await ReadAsync(await crm.PutAsync("/api/v1/config", content), HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_contacts_bulk_upsert_takes_bodies_over_1_MiB_up_to_8_MiB()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        using var large = new StringContent(Padded("[", "]", 3 * 1024 * 1024), Encoding.UTF8, "application/json");
        await ReadAsync(await crm.PutAsync("/api/v1/contacts", large), HttpStatusCode.OK);

        using var tooLarge = new StringContent(Padded("[", "]", 9 * 1024 * 1024), Encoding.UTF8, "application/json");
        await AssertProblemAsync(await crm.PutAsync("/api/v1/contacts", tooLarge), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }
}
