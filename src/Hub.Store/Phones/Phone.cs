using System.Globalization;
using PhoneNumbers;
using CountryCodeSource = PhoneNumbers.PhoneNumber.Types.CountryCodeSource;
using LibPhoneNumber = PhoneNumbers.PhoneNumber;

namespace Hub.Store.Phones;

/// <summary>A phone number in canonical form, suitable as a lookup key for screen-pop matching.</summary>
/// <param name="E164">"+" followed by country code and national significant number, e.g. "+84912345678".</param>
/// <param name="CountryCode">ITU calling code without "+", e.g. "84".</param>
/// <param name="National">National significant number (no trunk prefix; Italy's leading 0 kept), e.g. "912345678".</param>
/// <param name="Extension">Digits after an extension marker, or null; never part of <paramref name="E164"/>.</param>
public readonly record struct PhoneNumber(string E164, string CountryCode, string National, string? Extension);

/// <summary>
/// Turns the phone numbers agents, customers, CRMs and webphones send into E.164 with Google's libphonenumber, so
/// that the same line written in different ways matches the same contact. National forms are read in the
/// account's default region (<see cref="DefaultCountry"/>).
/// </summary>
/// <remarks>
/// Beyond what <c>PhoneNumberUtil.Parse</c> does on its own: a <c>tel:</c> URI's unknown parameters are dropped
/// (it refuses them); digits written with a country code but no <c>+</c>, or with <c>00</c> where the region
/// dials out otherwise, are read as international when that gives a valid number and the national reading does
/// not (or would only be a number written without its trunk prefix). A number libphonenumber parses but does not
/// know to be valid (short codes, new ranges, test numbers) is kept in the same canonical form: a call from it
/// still logs and still matches the same number written another way.
/// </remarks>
public static class Phone
{
    // Both are stricter than libphonenumber's own limits: no real spelling of a number comes near them, and
    // more than 15 digits cannot be written as E.164.
    private const int MaxInputLength = 100;
    private const int MaxE164Digits = 15;

    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    /// <summary>Normalises a typed or received phone number to E.164; see the class remarks.</summary>
    /// <param name="raw">The number as written, possibly with punctuation, an extension or as a <c>tel:</c> URI.</param>
    /// <param name="defaultCountry">Calling code ("84") or region ("VN") for numbers in national form.</param>
    /// <returns>The normalised number, or null when <paramref name="raw"/> cannot be a phone number.</returns>
    /// <exception cref="ArgumentException"><paramref name="defaultCountry"/> is neither; see <see cref="DefaultCountry"/>.</exception>
    public static PhoneNumber? Normalise(string? raw, string defaultCountry)
    {
        // A bad default is a configuration mistake, not bad input: fail loudly rather than misread every national number.
        var region = DefaultCountry.RegionOf(defaultCountry) ?? throw new ArgumentException(
            $"'{defaultCountry}' is neither a country calling code (digits, no '+') nor a region code such as VN.", nameof(defaultCountry));
        if (string.IsNullOrWhiteSpace(raw) || raw.Length > MaxInputLength)
        {
            return null;
        }

        var text = TelUri.WithKnownParametersOnly(raw.Trim());
        var parsed = TryParse(text, region);
        if ((parsed is null || MayBeInternational(parsed)) && International(text, parsed) is { } international)
        {
            parsed = international;
        }

        if (parsed is null)
        {
            return null;
        }

        var e164 = Util.Format(parsed, PhoneNumberFormat.E164);
        return e164.Length - 1 > MaxE164Digits
            ? null
            : new PhoneNumber(e164, parsed.CountryCode.ToString(CultureInfo.InvariantCulture),
                Util.GetNationalSignificantNumber(parsed), parsed.HasExtension ? parsed.Extension : null);
    }

    // A "+" is unambiguous; digits read as national, or after an exit code that gave no valid number, may not be.
    private static bool MayBeInternational(LibPhoneNumber parsed) =>
        parsed.CountryCodeSource == CountryCodeSource.FROM_DEFAULT_COUNTRY
        || (parsed.CountryCodeSource != CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN && !Util.IsValidNumber(parsed));

    /// <summary>
    /// The international reading of digits libphonenumber read otherwise, when that is the better one:
    /// "4915123456789" in Germany is +49 151… (a German would write a national number with its 0), and
    /// "0065…" dialled in Singapore, whose exit codes are 001, 008…, is still +65….
    /// </summary>
    private static LibPhoneNumber? International(string text, LibPhoneNumber? national)
    {
        if (text.Length == 0 || !char.IsAsciiDigit(text[0]))
        {
            return null;
        }

        // Where national numbers are written with a trunk prefix, digits without it that start with the country
        // code are far more likely that code than a national number missing its prefix.
        var nationalIsValid = national is not null && Util.IsValidNumber(national);
        var sloppyNational = nationalIsValid
            && national!.CountryCodeSource == CountryCodeSource.FROM_DEFAULT_COUNTRY
            && text.StartsWith(national.CountryCode.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            && Util.GetMetadataForRegion(Util.GetRegionCodeForNumber(national)) is { NationalPrefix.Length: > 0 };
        if (nationalIsValid && !sloppyNational)
        {
            return null;
        }

        foreach (var candidate in text.StartsWith("00", StringComparison.Ordinal) ? ["+" + text[2..], "+" + text] : new[] { "+" + text })
        {
            if (TryParse(candidate, "ZZ") is { } international
                && Util.IsValidNumber(international)
                && (!nationalIsValid || (sloppyNational && international.CountryCode == national!.CountryCode)))
            {
                return international;
            }
        }

        return null;
    }

    private static LibPhoneNumber? TryParse(string text, string region)
    {
        try
        {
            // Keeping the raw input is what records where the country code came from (CountryCodeSource).
            return Util.ParseAndKeepRawInput(text, region);
        }
        catch (NumberParseException)
        {
            return null;
        }
    }
}
