using PhoneNumbers;

namespace Hub.Store.Phones;

/// <summary>
/// The country national-form numbers belong to (<c>default_country_code</c>, <c>Hub:DefaultCountryCode</c>): a
/// calling code such as "84" (read as its main region: "1" is US, "7" RU, "44" GB) or a region code such as "VN".
/// </summary>
public static class DefaultCountry
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    /// <summary>True when <paramref name="value"/> names a region libphonenumber knows, by calling code or region code.</summary>
    public static bool IsValid(string? value) => RegionOf(value) is not null;

    /// <summary>The region code ("VN") for a calling code or region code, or null when it names none.</summary>
    /// <remarks>
    /// Non-geographic codes (800 freephone, 882 networks…) are refused: they have no national form to read numbers in.
    /// Digits are ASCII only, with no "+" or leading 0, as the config has always asked.
    /// </remarks>
    public static string? RegionOf(string? value)
    {
        if (value is { Length: 2 } && value.All(char.IsAsciiLetter))
        {
            var region = value.ToUpperInvariant();
            return Util.GetSupportedRegions().Contains(region) ? region : null;
        }

        if (value is not { Length: >= 1 and <= 3 } || value[0] == '0' || !value.All(char.IsAsciiDigit))
        {
            return null;
        }

        var main = Util.GetRegionCodeForCountryCode(int.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        return Util.GetSupportedRegions().Contains(main) ? main : null;
    }
}
