namespace Hub.Store.Phones;

/// <summary>RFC 3966 <c>tel:</c> URIs as webphones and CRMs send them.</summary>
internal static class TelUri
{
    // libphonenumber reads these and refuses a URI with any other parameter; the others (carrier, "tgrp",
    // vendors' own) say nothing about which line it is.
    private static readonly string[] KnownParameters = ["ext=", "isub=", "phone-context="];

    /// <summary><paramref name="text"/> without the parameters libphonenumber does not know, when it is a <c>tel:</c> URI.</summary>
    public static string WithKnownParametersOnly(string text)
    {
        if (!text.StartsWith("tel:", StringComparison.OrdinalIgnoreCase) || !text.Contains(';', StringComparison.Ordinal))
        {
            return text;
        }

        var parts = text.Split(';');
        return string.Join(';', parts.Take(1).Concat(parts.Skip(1).Where(IsKnown)));
    }

    private static bool IsKnown(string parameter) =>
        KnownParameters.Any(known => parameter.StartsWith(known, StringComparison.OrdinalIgnoreCase));
}
