using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Hub.Store.DataProtection;

/// <summary>
/// Encrypts the keys a store holds from before its key ring was protected with a certificate, as Data
/// Protection encrypts a new key: the same master key, so what it protected still decrypts.
/// </summary>
/// <remarks>
/// Data Protection encrypts only when it writes a key and never rewrites one; without this the keys made
/// before the upgrade would stay readable in the table until they expire and are deleted by hand.
/// </remarks>
internal sealed class PlaintextKeyProtection(HubDatabase database)
{
    private static readonly XNamespace Namespace = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName RequiresEncryption = Namespace + "requiresEncryption";
    private static readonly XName EncryptedSecret = Namespace + "encryptedSecret";

    /// <summary>Returns how many stored elements it encrypted. Call under the key ring's store-wide lock.</summary>
    public async Task<int> ProtectAsync(IXmlEncryptor encryptor, CancellationToken cancellationToken)
    {
        List<KeyRow> rows;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            rows = (await connection.QueryAsync<KeyRow>(new CommandDefinition(
                "SELECT name, xml FROM data_protection_keys", cancellationToken: cancellationToken))).ToList();
        }

        var protectedRows = 0;
        foreach (var row in rows)
        {
            var element = StoreXmlRepository.Parse(row.Xml);
            if (!element.DescendantsAndSelf().Any(IsPlaintextSecret))
            {
                continue;
            }

            var xml = Encrypt(encryptor, element).ToString(SaveOptions.DisableFormatting);
            await using var connection = await database.OpenAsync(cancellationToken);
            protectedRows += await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE data_protection_keys SET xml = @xml WHERE name = @name AND xml = @old",
                new { xml, name = row.Name, old = row.Xml }, cancellationToken: cancellationToken));
        }

        return protectedRows;
    }

    /// <summary>What Data Protection's own <c>EncryptIfNecessary</c> writes, so its decryptor reads it back.</summary>
    private static XElement Encrypt(IXmlEncryptor encryptor, XElement element)
    {
        // A document gives even the root a parent to be replaced in.
        var document = new XDocument(new XElement(element));
        var secrets = document.Root!.DescendantsAndSelf()
            .Where(candidate => IsPlaintextSecret(candidate) && !candidate.Ancestors().Any(IsPlaintextSecret))
            .ToList();
        foreach (var secret in secrets)
        {
            var encrypted = encryptor.Encrypt(new XElement(secret));
            secret.ReplaceWith(new XElement(EncryptedSecret,
                new XAttribute("decryptorType", encrypted.DecryptorType.AssemblyQualifiedName!),
                encrypted.EncryptedElement));
        }

        return document.Root!;
    }

    private static bool IsPlaintextSecret(XElement element) => (bool?)element.Attribute(RequiresEncryption) == true;

    private sealed record KeyRow(string Name, string Xml);
}
