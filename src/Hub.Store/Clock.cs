namespace Hub.Store;

/// <summary>The store keeps times as Unix epoch milliseconds; these convert at the edges.</summary>
public static class Clock
{
    public static long NowMs(this TimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public static DateTimeOffset FromMs(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    public static DateTimeOffset? FromMs(long? milliseconds) => milliseconds is { } ms ? FromMs(ms) : null;
}
