using Hub.Store;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace Hub.Api.RateLimits;

/// <summary>
/// Caps REST request bodies on <c>/api/v1/**</c> (<c>Hub__RateLimits__MaxBodyBytes</c>, 1 MiB; the
/// contacts bulk upsert <c>MaxContactsBodyBytes</c>, 8 MiB). A declared <c>Content-Length</c> over the
/// cap is refused before anything is read; otherwise Kestrel's per-request limit is lowered, and where
/// the server has none (TestServer) the body stream counts itself. Either way the answer is
/// <c>413 payload_too_large</c> and the handler never runs with a partial body.
/// </summary>
internal static class RequestBodyLimits
{
    public static IApplicationBuilder UseHubRequestBodyLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!context.Request.Path.StartsWithSegments(HubRateLimits.ApiPrefix, StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }

        var limit = LimitOf(context);
        if (limit is null)
        {
            await next(context);
            return;
        }

        if (context.Request.ContentLength > limit)
        {
            throw new BadHttpRequestException(
                $"The request body is larger than {limit} bytes, the limit for this endpoint.", StatusCodes.Status413PayloadTooLarge);
        }

        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = limit;
        }
        else
        {
            context.Request.Body = new LimitedReadStream(context.Request.Body, limit.Value);
        }

        await next(context);
    });

    private static long? LimitOf(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { } metadata)
        {
            return metadata.MaxRequestBodySize;
        }

        var settings = context.RequestServices.GetRequiredService<IOptions<HubSettings>>().Value.RateLimits;
        var path = context.Request.Path.Value?.TrimEnd('/');
        var contacts = HttpMethods.IsPut(context.Request.Method)
            && string.Equals(path, HubRateLimits.ApiPrefix + "/contacts", StringComparison.OrdinalIgnoreCase);
        return contacts ? settings.MaxContactsBodyBytes : settings.MaxBodyBytes;
    }

    /// <summary>Throws the 413 <see cref="BadHttpRequestException"/> Kestrel would once more than the limit was read.</summary>
    private sealed class LimitedReadStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > limit
                ? throw new BadHttpRequestException($"The request body is larger than {limit} bytes, the limit for this endpoint.", StatusCodes.Status413PayloadTooLarge)
                : read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
