using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Hub.Contracts;
using Hub.Consumers.Webhooks;

namespace Hub.Consumers.ScreenPop.CrmLookup;

/// <summary>What the CRM is asked about: the caller of one incoming call.</summary>
/// <param name="E164">The caller's number normalised with the account's country code.</param>
/// <param name="Raw">The number as the webphone reported it.</param>
public sealed record CrmLookupRequest(string TenantId, string E164, string Raw, string AgentId, string CallId);

/// <summary>The CRM did not give a usable answer (status, size or body).</summary>
public sealed class CrmLookupException : Exception
{
    public CrmLookupException()
    {
    }

    public CrmLookupException(string message) : base(message)
    {
    }

    public CrmLookupException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// One HTTP lookup: <c>GET {url}?number=&amp;raw=&amp;agent_id=&amp;call_id=</c>, signed when the account has a
/// secret. 200 is parsed (<see cref="CrmLookupResponse"/>), 404 and 204 are "not known", anything else
/// throws. No caching, timeout or circuit breaking here: see <see cref="CrmLookupService"/>.
/// </summary>
public sealed class CrmLookupClient(IHttpClientFactory httpClients, TimeProvider clock)
{
    /// <summary>
    /// The named client (<see cref="CrmLookupHttp"/>): the webhooks' outbound policy (allowed addresses only,
    /// checked at connect time; no redirects, no proxy) and a backstop timeout (the real one is the account's).
    /// </summary>
    public const string HttpClientName = "hub-crm-lookup";

    public const int MaxResponseBytes = 256 * 1024;

    public async Task<IReadOnlyList<ScreenPopMatch>> FetchAsync(CrmLookupTarget target, CrmLookupRequest request, CancellationToken cancellationToken)
    {
        var endpoint = target.Endpoint ?? throw new InvalidOperationException($"Hub does not call {target.Url}.");
        using var message = new HttpRequestMessage(HttpMethod.Get, RequestUri(endpoint, request));
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (target.Secret is { } secret)
        {
            var id = "msg_" + Guid.NewGuid().ToString("N");
            var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
            message.Headers.Add(WebhookSignature.IdHeader, id);
            message.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
            message.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, id, timestamp, ""));
        }

        var client = httpClients.CreateClient(HttpClientName);
        using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        switch (response.StatusCode)
        {
            case HttpStatusCode.NotFound or HttpStatusCode.NoContent:
                return [];
            case HttpStatusCode.OK:
                return CrmLookupResponse.Parse(await ReadLimitedAsync(response.Content, cancellationToken));
            default:
                throw new CrmLookupException($"the CRM answered {(int)response.StatusCode}");
        }
    }

    /// <summary>The lookup URL: the configured one (its own query kept) plus the call's parameters, URL-encoded.</summary>
    public static Uri RequestUri(Uri endpoint, CrmLookupRequest request)
    {
        var query = new StringBuilder(endpoint.Query.TrimStart('?'));
        Append(query, "number", request.E164);
        Append(query, "raw", request.Raw);
        Append(query, "agent_id", request.AgentId);
        Append(query, "call_id", request.CallId);
        return new UriBuilder(endpoint) { Query = query.ToString() }.Uri;

        static void Append(StringBuilder query, string name, string value) =>
            query.Append(query.Length > 0 ? "&" : "").Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > MaxResponseBytes)
        {
            throw new CrmLookupException($"the CRM's answer is larger than {MaxResponseBytes} bytes");
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (body.Length + read > MaxResponseBytes)
            {
                throw new CrmLookupException($"the CRM's answer is larger than {MaxResponseBytes} bytes");
            }

            body.Write(buffer, 0, read);
        }

        return body.ToArray();
    }
}
