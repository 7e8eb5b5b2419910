using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Hub.Contracts;
using Hub.Store;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Hub.Consumers.Telemetry;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Hub.Consumers.ScreenPop.CrmLookup;

public enum CrmLookupStatus
{
    /// <summary>The CRM knows the number (fresh or from the cache).</summary>
    Found,

    /// <summary>The CRM does not know the number (fresh or from the cache).</summary>
    NotFound,

    /// <summary>The CRM answered with an error, an unreadable body, or not within the account's timeout.</summary>
    Failed,

    /// <summary>The answer did not come within the time the pop could wait; it may still be cached when it comes.</summary>
    TimedOut,

    /// <summary>The account's circuit is open after repeated failures: no request was made.</summary>
    CircuitOpen,

    /// <summary>The URL is not one Hub calls (not https, nor http to loopback): no request was made.</summary>
    Refused,

    /// <summary>
    /// The account already has <c>Hub:ScreenPop:MaxConcurrentLookupsPerTenant</c> pops waiting on its CRM: this
    /// one did not wait (nor ask), as if the CRM had not answered in time.
    /// </summary>
    Busy,
}

/// <summary>The CRM's matches for a caller (empty unless <see cref="Status"/> is <see cref="CrmLookupStatus.Found"/>).</summary>
public sealed record CrmLookupResult(CrmLookupStatus Status, IReadOnlyList<ScreenPopMatch> Matches, bool FromCache = false)
{
    public static CrmLookupResult Empty(CrmLookupStatus status) => new(status, []);
}

/// <summary>
/// Asks an account's CRM about a caller the contact directory does not know, without ever holding a pop
/// back longer than the account's timeout.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description>Answers are cached in memory per (account, URL, E.164): hits for
/// <c>cache_seconds</c> (300), misses for <c>miss_cache_seconds</c> (60); failures are not cached. At most
/// <see cref="CacheEntries"/> numbers are kept per process.</description></item>
/// <item><description>Lookups of the same number running at the same time share one request (a call
/// ringing a group of agents asks once).</description></item>
/// <item><description>Each (account, URL) has a Polly circuit breaker around a timeout of
/// <c>timeout_ms</c>: when at least <see cref="BreakerMinimumThroughput"/> requests were made within
/// <see cref="BreakerSamplingDuration"/> and at least half of them failed, no request is made for
/// <see cref="BreakerBreakDuration"/>; then one trial request decides whether it closes again.</description></item>
/// <item><description>At most <c>Hub:ScreenPop:MaxConcurrentLookupsPerTenant</c> pops of one account wait on its
/// CRM at once in this process; one more is answered <see cref="CrmLookupStatus.Busy"/> at once, so a slow CRM
/// holds only its account's share of the screen-pop slots. (An account has one lookup URL, so this is also its
/// bound per host.) Cached answers need no permit.</description></item>
/// </list>
/// </remarks>
public sealed class CrmLookupService : IDisposable
{
    public const int CacheEntries = 10_000;
    public const int BreakerMinimumThroughput = 5;
    public const double BreakerFailureRatio = 0.5;
    public static readonly TimeSpan BreakerSamplingDuration = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan BreakerBreakDuration = TimeSpan.FromSeconds(30);

    private static readonly ResiliencePropertyKey<TimeSpan> TimeoutKey = new("hub.crm_lookup.timeout");

    private readonly CrmLookupClient _client;
    private readonly ConsumerMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILogger<CrmLookupService> _logger;
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = CacheEntries });
    private readonly ConcurrentDictionary<CacheKey, Lazy<Task<CrmLookupResult>>> _inFlight = new();
    private readonly ConcurrentDictionary<(string TenantId, string Url), ResiliencePipeline> _pipelines = new();
    private readonly ConcurrentDictionary<(string TenantId, string Url), bool> _refusalsLogged = new();
    private readonly ConcurrentDictionary<string, long> _busyLoggedAt = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    // One concurrency limiter per account, with no queue: a pop over its account's share must not wait for a
    // permit either. The partitioned limiter drops an account's limiter once it has been idle for a while, so
    // memory follows the accounts with pops under way.
    private readonly PartitionedRateLimiter<string> _waiting;

    public CrmLookupService(CrmLookupClient client, IOptions<HubSettings> options, ConsumerMetrics metrics, TimeProvider clock,
        ILogger<CrmLookupService> logger)
    {
        _client = client;
        _metrics = metrics;
        _clock = clock;
        _logger = logger;
        _waiting = PartitionedRateLimiter.Create<string, string>(tenantId => RateLimitPartition.GetConcurrencyLimiter(tenantId,
            _ => new ConcurrencyLimiterOptions { PermitLimit = Math.Max(1, options.Value.ScreenPop.MaxConcurrentLookupsPerTenant), QueueLimit = 0 }));
    }

    /// <summary>
    /// The CRM's answer for this caller, or an empty result as soon as <paramref name="wait"/> has passed.
    /// A request still running then goes on in the background and its answer is cached.
    /// </summary>
    public async Task<CrmLookupResult> LookupAsync(CrmLookupTarget target, CrmLookupRequest request, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (target.Endpoint is null)
        {
            if (_refusalsLogged.TryAdd((request.TenantId, target.Url), true))
            {
                _logger.LogWarning("CRM lookup of {TenantId} not made: crm_lookup.url must be https (or http to loopback)", request.TenantId);
            }

            return CrmLookupResult.Empty(CrmLookupStatus.Refused);
        }

        var key = new CacheKey(request.TenantId, target.Url, request.E164);
        if (_cache.TryGetValue(key, out IReadOnlyList<ScreenPopMatch>? cached) && cached is not null)
        {
            return new CrmLookupResult(cached.Count > 0 ? CrmLookupStatus.Found : CrmLookupStatus.NotFound, cached, FromCache: true);
        }

        if (wait <= TimeSpan.Zero)
        {
            // Too late to wait: still ask, so that the answer is cached for the caller's next call.
            _ = StartOrJoin(key, target, request);
            return CrmLookupResult.Empty(CrmLookupStatus.TimedOut);
        }

        using var permit = _waiting.AttemptAcquire(request.TenantId);
        if (!permit.IsAcquired)
        {
            LogBusy(request.TenantId);
            return CrmLookupResult.Empty(CrmLookupStatus.Busy);
        }

        var lookup = StartOrJoin(key, target, request);
        try
        {
            return await lookup.WaitAsync(wait, _clock, cancellationToken);
        }
        catch (TimeoutException)
        {
            _logger.LogDebug("CRM lookup of {TenantId} still running after {Wait} ms; popping without it", request.TenantId, wait.TotalMilliseconds);
            return CrmLookupResult.Empty(CrmLookupStatus.TimedOut);
        }
    }

    /// <summary>At most once a minute per account: under a flood of calls, one line says what is going on.</summary>
    private void LogBusy(string tenantId)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var due = _busyLoggedAt.TryGetValue(tenantId, out var last)
            ? now - last >= 60_000 && _busyLoggedAt.TryUpdate(tenantId, now, last)
            : _busyLoggedAt.TryAdd(tenantId, now);
        if (due)
        {
            _logger.LogWarning("CRM lookups of {TenantId} are all waiting on its CRM: popping without one (Hub:ScreenPop:MaxConcurrentLookupsPerTenant)",
                tenantId);
        }
    }

    private Task<CrmLookupResult> StartOrJoin(CacheKey key, CrmLookupTarget target, CrmLookupRequest request)
    {
        var created = new Lazy<Task<CrmLookupResult>>(() => FetchAsync(key, target, request));
        var lookup = _inFlight.GetOrAdd(key, created);
        if (ReferenceEquals(lookup, created))
        {
            _ = ForgetWhenDoneAsync(key, created);
        }

        return lookup.Value;
    }

    private async Task ForgetWhenDoneAsync(CacheKey key, Lazy<Task<CrmLookupResult>> lookup)
    {
        await ((Task)lookup.Value).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _inFlight.TryRemove(KeyValuePair.Create(key, lookup));
    }

    private async Task<CrmLookupResult> FetchAsync(CacheKey key, CrmLookupTarget target, CrmLookupRequest request)
    {
        // Off the caller's thread and token: callers stop waiting at their own deadline, the request runs
        // to its timeout so that its answer can be cached and counted by the breaker.
        await Task.Yield();
        var pipeline = _pipelines.GetOrAdd((request.TenantId, target.Url), tenantAndUrl => CreatePipeline(tenantAndUrl.TenantId, target.Endpoint!));
        var context = ResilienceContextPool.Shared.Get(_stopping.Token);
        context.Properties.Set(TimeoutKey, target.Timeout);
        try
        {
            var matches = await pipeline.ExecuteAsync(
                static (context, state) => new ValueTask<IReadOnlyList<ScreenPopMatch>>(
                    state.Client.FetchAsync(state.Target, state.Request, context.CancellationToken)),
                context, (Client: _client, Target: target, Request: request));
            var cacheTime = matches.Count > 0 ? target.HitCacheTime : target.MissCacheTime;
            if (cacheTime > TimeSpan.Zero)
            {
                _cache.Set(key, matches, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = cacheTime });
            }

            return new CrmLookupResult(matches.Count > 0 ? CrmLookupStatus.Found : CrmLookupStatus.NotFound, matches);
        }
        catch (BrokenCircuitException)
        {
            return CrmLookupResult.Empty(CrmLookupStatus.CircuitOpen);
        }
        catch (Exception exception) when (!_stopping.IsCancellationRequested)
        {
            var reason = exception is TimeoutRejectedException ? $"no answer within {target.Timeout.TotalMilliseconds} ms" : exception.Message;
            _logger.LogWarning("CRM lookup of {TenantId} at {Host} failed: {Reason}", request.TenantId, target.Endpoint!.Authority, reason);
            return CrmLookupResult.Empty(CrmLookupStatus.Failed);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private ResiliencePipeline CreatePipeline(string tenantId, Uri endpoint) =>
        new ResiliencePipelineBuilder { TimeProvider = _clock }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = BreakerFailureRatio,
                MinimumThroughput = BreakerMinimumThroughput,
                SamplingDuration = BreakerSamplingDuration,
                BreakDuration = BreakerBreakDuration,
                // Every failure counts except the host shutting down.
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } exception && !(exception is OperationCanceledException && _stopping.IsCancellationRequested)),
                OnOpened = args =>
                {
                    _metrics.CircuitOpened();
                    _logger.LogWarning("CRM lookup of {TenantId} at {Host} keeps failing: no lookups for {Seconds} s, unknown-caller pops meanwhile",
                        tenantId, endpoint.Authority, args.BreakDuration.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    _metrics.CircuitClosed();
                    _logger.LogInformation("CRM lookup of {TenantId} at {Host} answers again", tenantId, endpoint.Authority);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(args.Context.Properties.GetValue(TimeoutKey, TimeSpan.FromMilliseconds(CrmLookupTarget.DefaultTimeoutMs))),
            })
            .Build();

    /// <summary>Cancels the requests still running (their callers have stopped waiting by now).</summary>
    public void Dispose()
    {
        // The source itself is not disposed: a request finishing right now may still read its token.
        _stopping.Cancel();
        _cache.Dispose();
        _waiting.Dispose();
    }

    private readonly record struct CacheKey(string TenantId, string Url, string E164);
}
