using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Hub.Consumers.Telemetry;
using Hub.Store;
using Microsoft.Extensions.Options;

namespace Hub.Consumers.Webhooks;

/// <summary>What one attempt gave: a status code (null when no answer came) and the first bytes of the answer or the error.</summary>
public sealed record WebhookAttemptResult(int? StatusCode, string? ResponseBody, string? Error, long DurationMs)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>One signed POST, cut at <c>Hub:Webhooks:AttemptTimeout</c>.</summary>
public sealed class WebhookSender(IHttpClientFactory httpClients, IOptions<HubSettings> options, ConsumerMetrics metrics, TimeProvider clock)
{
    /// <summary>The delivery log keeps this much of an answer.</summary>
    public const int ResponseBytesKept = 1024;

    public async Task<WebhookAttemptResult> SendAsync(string url, string secret, string webhookId, string body, CancellationToken cancellationToken)
    {
        var timeout = options.Value.Webhooks.AttemptTimeout;
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookSignature.IdHeader, webhookId);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, webhookId, timestamp, body));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*"));

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(timeout);
        var started = clock.GetTimestamp();
        try
        {
            using var response = await httpClients.CreateClient(WebhookHttp.ClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
            var head = await ReadHeadAsync(response, attempt.Token);
            metrics.WebhookAttempt(response.IsSuccessStatusCode ? "success" : "http_error");
            return new WebhookAttemptResult((int)response.StatusCode, head, null, Elapsed(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.WebhookAttempt("timeout");
            return new WebhookAttemptResult(null, null, $"No answer within {timeout.TotalSeconds:0.###} s.", Elapsed(started));
        }
        catch (HttpRequestException exception)
        {
            // The innermost message says what happened (refused, reset, a forbidden address, a TLS failure).
            var cause = exception.GetBaseException();
            metrics.WebhookAttempt("network_error");
            return new WebhookAttemptResult(null, null, cause.Message, Elapsed(started));
        }
    }

    private long Elapsed(long started) => (long)clock.GetElapsedTime(started).TotalMilliseconds;

    private static async Task<string> ReadHeadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[ResponseBytesKept];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), cancellationToken) is var n and > 0)
        {
            read += n;
        }

        return Encoding.UTF8.GetString(buffer, 0, read);
    }
}
