namespace Hub.Tests.Support;

/// <summary>Wall-clock time a test moves forward by hand; timers stay real.</summary>
public sealed class ShiftableClock : TimeProvider
{
    private long _offsetTicks;

    public void Shift(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));
}
