using System.Collections.Concurrent;

namespace Hub.Api.EventStream;

/// <summary>
/// The open event streams of this Api node per credential, in memory: each stream polls the store for as long as it
/// is open, so one key must not be able to open any number of them. Per node, not across nodes (a stream holds no
/// row in the store); with N nodes a key can hold at most N times the limit.
/// </summary>
public sealed class StreamSlots
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>Takes a slot of <paramref name="credential"/>; null when it already holds <paramref name="limit"/> (0 or less: no limit).</summary>
    public IDisposable? TryEnter(string credential, int limit)
    {
        while (true)
        {
            var held = _open.GetValueOrDefault(credential);
            if (limit > 0 && held >= limit)
            {
                return null;
            }

            if (held == 0 ? _open.TryAdd(credential, 1) : _open.TryUpdate(credential, held + 1, held))
            {
                return new Slot(this, credential);
            }
        }
    }

    public int Open(string credential) => _open.GetValueOrDefault(credential);

    private void Leave(string credential)
    {
        while (true)
        {
            var held = _open.GetValueOrDefault(credential);
            if (held == 0)
            {
                return;
            }

            // The last one out removes the entry, so the map holds only credentials with open streams.
            if (held <= 1 ? _open.TryRemove(new KeyValuePair<string, int>(credential, held)) : _open.TryUpdate(credential, held - 1, held))
            {
                return;
            }
        }
    }

    private sealed class Slot(StreamSlots owner, string credential) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Leave(credential);
            }
        }
    }
}
