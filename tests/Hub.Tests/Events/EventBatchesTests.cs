using Hub.Contracts;
using Hub.Consumers.WebphoneEvents;

namespace Hub.Tests.Events;

/// <summary>
/// A batch is one unit of work: when it fails, its events are written one by one so a poison event cannot keep
/// the good ones of its batch out of the store (the batch is then retried and ends in <c>_error</c> as a whole;
/// every write is idempotent, so the events already written keep exactly one effect).
/// </summary>
public sealed class EventBatchesTests
{
    private static readonly IReadOnlyList<IWebphoneEvent> Events =
        Enumerable.Range(1, 6).Select(seq => (IWebphoneEvent)new CallAnswered { EventId = Guid.NewGuid(), TenantId = "t", AgentId = "a", Seq = seq }).ToList();

    [Fact]
    public async Task A_poison_event_fails_its_batch_but_the_good_events_are_written()
    {
        var poison = Events[3];
        var written = new List<IWebphoneEvent>();
        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => EventBatches.WriteAsync(Events, batch =>
        {
            if (batch.Contains(poison))
            {
                throw new InvalidOperationException("poison");
            }

            written.AddRange(batch);
            return Task.CompletedTask;
        }));

        Assert.Equal("poison", exception.Message);
        Assert.Equal(Events.Where(e => e != poison), written);
    }

    [Fact]
    public async Task A_batch_that_fails_whole_but_succeeds_event_by_event_is_done()
    {
        var written = new List<IWebphoneEvent>();
        await EventBatches.WriteAsync(Events, batch =>
        {
            if (batch.Count > 1)
            {
                throw new TimeoutException("a deadlock victim, say");
            }

            written.AddRange(batch);
            return Task.CompletedTask;
        });

        Assert.Equal(Events, written);
    }

    [Fact]
    public async Task A_failing_store_is_not_hammered_event_by_event()
    {
        var attempts = 0;
        await Assert.ThrowsAsync<TimeoutException>(() => EventBatches.WriteAsync(Events, _ =>
        {
            attempts++;
            throw new TimeoutException("store down");
        }));

        Assert.Equal(1 + 3, attempts);
    }

    [Fact]
    public async Task A_poison_event_after_good_ones_does_not_stop_the_rest()
    {
        var written = new List<IWebphoneEvent>();
        var poison = Events.Skip(1).Take(4).ToHashSet();
        await Assert.ThrowsAsync<InvalidOperationException>(() => EventBatches.WriteAsync(Events, batch =>
        {
            if (batch.Any(poison.Contains))
            {
                throw new InvalidOperationException("poison");
            }

            written.AddRange(batch);
            return Task.CompletedTask;
        }));

        Assert.Equal([Events[0], Events[5]], written);
    }
}
