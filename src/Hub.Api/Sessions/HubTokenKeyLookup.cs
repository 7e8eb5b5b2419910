using System.Collections.Concurrent;

namespace Hub.Api.Sessions;

/// <summary>
/// Finds the key a <c>hub-…</c> kid names, for verifying a hub embed token: the newest key, or one superseded
/// less than <see cref="HubSigningKey.GraceWindow"/> ago; null for any other. Keys another node created are
/// found in the store, so a token minted anywhere verifies everywhere.
/// </summary>
/// <remarks>
/// The kid comes from an unverified token. Only well-formed ones reach the store, and what it answered (a key,
/// or none) is kept <see cref="CacheTime"/> in at most <see cref="MaxEntries"/> entries, so a repeated kid costs
/// nothing and a stream of made-up ones costs one indexed lookup each (which the anonymous rate limit on
/// token exchange bounds) and no memory beyond the cap.
/// </remarks>
public sealed class HubTokenKeyLookup(EmbedTokenKeyStore store, TimeProvider clock)
{
    public const int MaxEntries = 256;

    /// <summary>A cached answer may miss a rotation this long; far less than the grace window, so it never lengthens it by much.</summary>
    public static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    internal int CachedCount => _entries.Count;

    /// <summary>The HS256 key for this kid, if a token signed with it may still be accepted.</summary>
    public async Task<byte[]?> FindAsync(string? keyId, CancellationToken cancellationToken)
    {
        if (!HubSigningKey.TryParseKeyId(keyId, out var id))
        {
            return null;
        }

        var now = clock.GetUtcNow();
        if (!_entries.TryGetValue(id, out var entry) || !IsFresh(entry, now))
        {
            entry = new Entry(await store.FindAsync(id, cancellationToken), now);
            Remember(id, entry, now);
        }

        return entry.Key is { } key && (key.SupersededAt is not { } superseded || now - superseded < HubSigningKey.GraceWindow)
            ? key.Secret
            : null;
    }

    private void Remember(string id, Entry entry, DateTimeOffset now)
    {
        if (_entries.Count >= MaxEntries && !_entries.ContainsKey(id))
        {
            foreach (var (staleId, stale) in _entries)
            {
                if (!IsFresh(stale, now))
                {
                    _entries.TryRemove(staleId, out _);
                }
            }

            // Still full of fresh entries: someone is sending many kids. Forgetting them all is cheap and bounded.
            if (_entries.Count >= MaxEntries)
            {
                _entries.Clear();
            }
        }

        _entries[id] = entry;
    }

    private static bool IsFresh(Entry entry, DateTimeOffset now) => now - entry.ReadAt is var age && age >= TimeSpan.Zero && age < CacheTime;

    private sealed record Entry(EmbedTokenKey? Key, DateTimeOffset ReadAt);
}
