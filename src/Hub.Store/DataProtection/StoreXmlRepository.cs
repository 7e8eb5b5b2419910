using System.Xml;
using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Hub.Store.DataProtection;

/// <summary>
/// The ASP.NET Core Data Protection key ring, kept in the store (table <c>data_protection_keys</c>) so
/// every process of a deployment (Api nodes and workers) reads and writes the same keys and decrypts what another encrypted.
/// Nothing goes to <c>~/.aspnet</c>.
/// </summary>
/// <remarks>
/// Each key's master key is encrypted with the <c>Hub:DataProtection</c> certificate before it reaches
/// this repository (older stores are upgraded by <see cref="PlaintextKeyProtection"/>), so reading the
/// table alone reveals no key. <see cref="IXmlRepository"/> is synchronous; Data Protection calls it rarely
/// (loading the ring, a refresh about once a day, a new key about every 90 days), so blocking on the
/// store here is acceptable. A caller must not hold a store connection while it protects or
/// unprotects: on SQLite the store lends one connection at a time, and loading the ring needs one.
/// </remarks>
internal sealed class StoreXmlRepository(HubDatabase database, TimeProvider clock) : IXmlRepository
{
    // The table is trusted, but a key ring is no place for DTDs or external entities.
    private static readonly XmlReaderSettings ReaderSettings = new() { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };

    public IReadOnlyCollection<XElement> GetAllElements() => GetAllElementsAsync().GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName) => StoreElementAsync(element, friendlyName).GetAwaiter().GetResult();

    private async Task<IReadOnlyCollection<XElement>> GetAllElementsAsync()
    {
        List<string> rows;
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            rows = (await connection.QueryAsync<string>("SELECT xml FROM data_protection_keys ORDER BY created_at, name")).ToList();
        }

        return rows.Select(Parse).ToList();
    }

    private async Task StoreElementAsync(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        var xml = element.ToString(SaveOptions.DisableFormatting);
        var name = string.IsNullOrEmpty(friendlyName) ? Guid.NewGuid().ToString() : friendlyName;
        await using var connection = await database.OpenAsync(CancellationToken.None);
        const string Insert = "INSERT INTO data_protection_keys (name, xml, created_at) VALUES (@name, @xml, @now) ON CONFLICT (name) DO NOTHING";
        var stored = await connection.ExecuteAsync(Insert, new { name, xml, now = clock.NowMs() });
        if (stored == 0)
        {
            // Names are only labels ("key-<guid>", "revocation-…"); an element is never dropped for a clash.
            await connection.ExecuteAsync(Insert, new { name = $"{name}-{Guid.NewGuid():N}", xml, now = clock.NowMs() });
        }
    }

    internal static XElement Parse(string xml)
    {
        using var reader = XmlReader.Create(new StringReader(xml), ReaderSettings);
        return XElement.Load(reader);
    }
}
