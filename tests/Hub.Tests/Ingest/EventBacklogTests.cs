using Hub.Consumers.WebphoneEvents;

namespace Hub.Tests.Ingest;

/// <summary>The embedded default's backlog gate: all or nothing, first come first served.</summary>
public sealed class EventBacklogTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_call_that_does_not_fit_holds_no_slots_while_it_waits_and_none_after_it_gives_up()
    {
        var backlog = new EventBacklog(4);
        Assert.True(await backlog.EnterAsync(3, TimeSpan.Zero));

        var big = backlog.EnterAsync(4, TimeSpan.FromMilliseconds(50));

        Assert.False(await big.WaitAsync(Long));
        // The one free slot is still free: the expired call never took it.
        Assert.True(await backlog.EnterAsync(1, TimeSpan.Zero));
        Assert.False(await backlog.EnterAsync(1, TimeSpan.Zero));
        backlog.Leave(4);
        Assert.True(await backlog.EnterAsync(4, TimeSpan.Zero));
    }

    [Fact]
    public async Task Callers_are_served_in_arrival_order_and_an_expired_one_lets_the_next_through()
    {
        var backlog = new EventBacklog(2);
        Assert.True(await backlog.EnterAsync(2, TimeSpan.Zero));
        var first = backlog.EnterAsync(2, TimeSpan.FromMilliseconds(50));
        var second = backlog.EnterAsync(1, Long);

        // The first expires while nothing is free; then one slot frees: the second, no longer behind it, gets it.
        Assert.False(await first.WaitAsync(Long));
        Assert.False(second.IsCompleted);
        backlog.Leave(1);
        Assert.True(await second.WaitAsync(Long));
    }

    [Fact]
    public async Task A_call_larger_than_the_backlog_enters_once_it_is_empty()
    {
        var backlog = new EventBacklog(2);

        Assert.True(await backlog.EnterAsync(5, TimeSpan.Zero));
        Assert.False(await backlog.EnterAsync(1, TimeSpan.FromMilliseconds(20)));
        backlog.Leave(5);
        Assert.True(await backlog.EnterAsync(2, TimeSpan.Zero));
    }

    [Fact]
    public async Task Two_callers_that_each_need_most_of_the_backlog_do_not_starve_each_other()
    {
        var backlog = new EventBacklog(4);
        Assert.True(await backlog.EnterAsync(4, TimeSpan.Zero));
        var first = backlog.EnterAsync(3, Long);
        var second = backlog.EnterAsync(3, Long);

        // Taken slot by slot, each would get two of the four and wait for the other until both time out.
        backlog.Leave(4);

        Assert.True(await first.WaitAsync(Long));
        Assert.False(second.IsCompleted);
        backlog.Leave(3);
        Assert.True(await second.WaitAsync(Long));
    }
}
