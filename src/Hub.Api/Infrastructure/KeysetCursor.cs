using System.Globalization;
using System.Text;

namespace Hub.Api.Infrastructure;

/// <summary>
/// The opaque <c>cursor</c> of newest-first lists: the (time, id) of the last row returned. Keyset
/// paging on it stays stable while rows are inserted, unlike offsets.
/// </summary>
public static class KeysetCursor
{
    public static string Encode(long at, string id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{at.ToString(CultureInfo.InvariantCulture)}|{id}"));

    /// <summary>(null, null) for no cursor; <c>400 invalid_cursor</c> for one this API did not return.</summary>
    public static (long? At, string? Id) Decode(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return (null, null);
        }

        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            var separator = text.IndexOf('|', StringComparison.Ordinal);
            return (long.Parse(text[..separator], CultureInfo.InvariantCulture), text[(separator + 1)..]);
        }
        catch (Exception exception) when (exception is FormatException or ArgumentOutOfRangeException or OverflowException)
        {
            throw HubProblemException.BadRequest("invalid_cursor", "cursor is not one this API returned.");
        }
    }
}
