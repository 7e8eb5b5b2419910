using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;

namespace Hub.Store.Phones;

/// <summary>A phone number in canonical form, suitable as a lookup key for screen-pop matching.</summary>
/// <param name="E164">"+" followed by country code and national significant number, e.g. "+84912345678".</param>
/// <param name="CountryCode">ITU calling code without "+", e.g. "84".</param>
/// <param name="National">National significant number without trunk prefix, e.g. "912345678".</param>
/// <param name="Extension">Digits after an extension marker, or null; never part of <paramref name="E164"/>.</param>
public readonly record struct PhoneNumber(string E164, string CountryCode, string National, string? Extension);

/// <summary>
/// Turns the phone numbers agents, customers and webphones type or send into E.164, so that the
/// same line written in different ways matches the same CRM contact. A small hand-written subset
/// of what libphonenumber does; it does not check number ranges, only shape and length.
/// </summary>
/// <remarks>
/// <para>Rules, in the order they are applied:</para>
/// <list type="number">
/// <item><description>
/// Extension: a trailing <c>x123</c>, <c>ext 123</c>, <c>ext. 123</c>, <c>extn 123</c>,
/// <c>extension 123</c>, <c>;ext=123</c> or <c>#123</c> (case-insensitive) becomes
/// <see cref="PhoneNumber.Extension"/> and is not part of the E.164 form.
/// </description></item>
/// <item><description>
/// Punctuation: whitespace (including non-breaking spaces), <c>-</c> and the Unicode dashes,
/// <c>.</c>, <c>(</c>, <c>)</c> and <c>/</c> are ignored. A single <c>+</c> is accepted before the
/// first digit (so "(+84) 912…" works). Any other character, letters included, means "not a phone
/// number" and gives null.
/// </description></item>
/// <item><description>
/// International form: a leading <c>+</c>, or an international prefix — <c>00</c> everywhere, plus
/// <c>011</c> when the default country is NANP (1), <c>0011</c> for Australia (61) and <c>010</c>
/// for Japan (81) — is followed by the country code, found by longest match against the ITU table.
/// A <c>0</c> straight after the country code ("+44 (0)20…", "+84 0912…") is the habit of writing the
/// trunk prefix into an international number and is dropped, except in countries where the leading 0
/// really belongs to the number (Italy, San Marino, Côte d'Ivoire, Benin, Gabon, Congo).
/// </description></item>
/// <item><description>
/// National form with trunk prefix: the default country's trunk prefix is removed — <c>0</c> for most
/// countries, <c>1</c> for NANP, <c>8</c> for Russia/Kazakhstan (only when the number is one digit too
/// long, because Russian numbers may themselves start with 8), <c>06</c> for Hungary. Italy and the
/// other countries above have no trunk prefix: their leading 0 stays in the national number.
/// </description></item>
/// <item><description>
/// Country code without <c>+</c>: a number that starts with the default country code, is longer than
/// that country's national numbers, and leaves a national number of plausible length once the code is
/// removed, is international ("84912345678" with default 84). Countries without a length entry below
/// use the generic limit: the number is too long if, read as national, it would exceed 15 digits.
/// </description></item>
/// <item><description>
/// Otherwise the digits are a national number of the default country ("912345678" with default 84).
/// </description></item>
/// <item><description>
/// Validation: country code plus national number must total 8 to 15 digits and the national number
/// must have at least 4; NANP national numbers must be exactly 10 digits and cannot start with 0 or 1.
/// </description></item>
/// </list>
/// </remarks>
public static partial class PhoneNumbers
{
    private const int MinE164Digits = 8;
    private const int MaxE164Digits = 15;
    private const int MinNationalDigits = 4;
    private const int MaxInputLength = 100;
    private const string Nanp = "1";

    /// <summary>
    /// ITU-T E.164 country calling codes in use (assigned codes that are spare, reserved or withdrawn
    /// are left out, so "+999…" is refused rather than guessed at). The set is prefix-free — no code
    /// is the start of another — which is what lets the longest match be unambiguous.
    /// </summary>
    private static readonly FrozenSet<string> CallingCodes = new[]
    {
        "1", "7",
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
        "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
        "211", "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226", "227", "228", "229",
        "230", "231", "232", "233", "234", "235", "236", "237", "238", "239", "240", "241", "242", "243", "244",
        "245", "246", "247", "248", "249", "250", "251", "252", "253", "254", "255", "256", "257", "258",
        "260", "261", "262", "263", "264", "265", "266", "267", "268", "269", "290", "291", "297", "298", "299",
        "350", "351", "352", "353", "354", "355", "356", "357", "358", "359",
        "370", "371", "372", "373", "374", "375", "376", "377", "378",
        "380", "381", "382", "383", "385", "386", "387", "389",
        "420", "421", "423",
        "500", "501", "502", "503", "504", "505", "506", "507", "508", "509",
        "590", "591", "592", "593", "594", "595", "596", "597", "598", "599",
        "670", "672", "673", "674", "675", "676", "677", "678", "679", "680", "681", "682", "683",
        "685", "686", "687", "688", "689", "690", "691", "692",
        // Global services (freephone, shared cost, Inmarsat, satellite and international networks): rare,
        // but a webphone can be handed one and it is a real number, not garbage.
        "800", "808", "870", "881", "882", "883",
        "850", "852", "853", "855", "856", "880", "886",
        "960", "961", "962", "963", "964", "965", "966", "967", "968",
        "970", "971", "972", "973", "974", "975", "976", "977", "979",
        "992", "993", "994", "995", "996", "998",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// Plausible national significant number lengths. Only used to decide whether digits that start with
    /// the default country code are international; never to refuse a number, because short service
    /// numbers and new ranges would otherwise be lost.
    /// </summary>
    private static readonly FrozenDictionary<string, (int Min, int Max)> NationalLengths =
        new Dictionary<string, (int Min, int Max)>(StringComparer.Ordinal)
        {
            ["1"] = (10, 10),
            ["7"] = (10, 10),
            ["20"] = (8, 10),
            ["27"] = (9, 9),
            ["30"] = (10, 10),
            ["31"] = (9, 9),
            ["32"] = (8, 9),
            ["33"] = (9, 9),
            ["34"] = (9, 9),
            ["36"] = (8, 9),
            ["39"] = (6, 11),
            ["40"] = (9, 9),
            ["41"] = (9, 9),
            ["43"] = (4, 13),
            ["44"] = (9, 10),
            ["45"] = (8, 8),
            ["46"] = (7, 9),
            ["47"] = (8, 8),
            ["48"] = (9, 9),
            ["49"] = (6, 13),
            ["52"] = (10, 10),
            ["54"] = (10, 11),
            ["55"] = (10, 11),
            ["56"] = (9, 9),
            ["57"] = (10, 10),
            ["60"] = (9, 10),
            ["61"] = (9, 9),
            ["62"] = (8, 12),
            // Manila landlines are 9 digits and older provincial ones 8; the upper bound, which is what
            // decides "too long", is the mobile length of 10.
            ["63"] = (8, 10),
            ["64"] = (8, 10),
            ["65"] = (8, 8),
            ["66"] = (8, 9),
            ["81"] = (9, 10),
            // Seoul numbers are 8 digits once the trunk 0 is gone.
            ["82"] = (8, 10),
            ["84"] = (9, 10),
            ["86"] = (10, 11),
            ["90"] = (10, 10),
            ["91"] = (10, 10),
            ["92"] = (9, 10),
            ["351"] = (9, 9),
            ["353"] = (7, 9),
            ["358"] = (5, 12),
            ["380"] = (9, 9),
            ["420"] = (9, 9),
            ["421"] = (9, 9),
            ["852"] = (8, 8),
            ["853"] = (8, 8),
            ["855"] = (8, 9),
            ["880"] = (10, 10),
            ["886"] = (8, 9),
            ["966"] = (9, 9),
            ["971"] = (8, 9),
            ["972"] = (8, 9),
        }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Trunk prefixes that are not the usual "0".</summary>
    private static readonly FrozenDictionary<string, string> UnusualTrunkPrefixes =
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Nanp] = "1",
            ["7"] = "8",
            ["36"] = "06",
        }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// Countries with no trunk prefix whose numbers can begin with 0: the 0 must survive both in national
    /// input and after the country code, or "+39 06…" (Rome) would turn into a different number.
    /// </summary>
    private static readonly FrozenSet<string> LeadingZeroBelongsToNumber =
        new[] { "39", "378", "225", "229", "241", "242" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Normalises a typed or received phone number to E.164; see the class remarks for the rules.</summary>
    /// <param name="raw">The number as written, possibly with punctuation and an extension.</param>
    /// <param name="defaultCountryCode">Calling code (e.g. "84") assumed for numbers in national form.</param>
    /// <returns>The normalised number, or null when <paramref name="raw"/> cannot be a phone number.</returns>
    /// <exception cref="ArgumentException"><paramref name="defaultCountryCode"/> is not a known calling code.</exception>
    public static PhoneNumber? Normalise(string? raw, string defaultCountryCode)
    {
        // A bad default is a configuration mistake, not bad input: fail loudly rather than return null
        // for every national number.
        if (!IsValidCountryCode(defaultCountryCode))
        {
            throw new ArgumentException(
                $"'{defaultCountryCode}' is not a known country calling code (digits only, no '+').",
                nameof(defaultCountryCode));
        }

        // The length cap keeps the extension regex cheap on whatever a browser sends; the longest
        // real-world spelling ("+84 (0) 912 345 678 extension 1234") is well under it.
        if (string.IsNullOrWhiteSpace(raw) || raw.Length > MaxInputLength)
        {
            return null;
        }

        string main = raw;
        string? extension = null;
        var extensionMatch = ExtensionPattern().Match(raw);
        if (extensionMatch.Success)
        {
            main = extensionMatch.Groups["number"].Value;
            extension = extensionMatch.Groups["ext"].Value;
        }

        if (!TryExtractDigits(main, out var digits, out var hasPlus))
        {
            return null;
        }

        var split = hasPlus
            ? SplitInternational(digits)
            : SplitDialled(digits, defaultCountryCode);
        if (split is not { } parts || !IsPlausible(parts.CountryCode, parts.National))
        {
            return null;
        }

        return new PhoneNumber("+" + parts.CountryCode + parts.National, parts.CountryCode, parts.National, extension);
    }

    /// <summary>True for a known ITU calling code written as 1-3 ASCII digits with no leading 0 or "+".</summary>
    public static bool IsValidCountryCode(string? code) =>
        code is { Length: >= 1 and <= 3 }
        && code[0] != '0'
        && code.All(char.IsAsciiDigit)
        && CallingCodes.Contains(code);

    // The number part must be non-empty and contain a digit; lazy so the marker is found as early as it
    // can be while the extension still runs to the end of the input.
    [GeneratedRegex(
        @"^(?<number>.*?\d.*?)\s*(?:;\s*ext\s*=\s*|(?:ext(?:ension|n)?\.?|x|#)\s*)(?<ext>\d{1,10})\s*$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ExtensionPattern();

    private static bool TryExtractDigits(string text, out string digits, out bool hasPlus)
    {
        var builder = new StringBuilder(text.Length);
        hasPlus = false;
        foreach (var c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                builder.Append(c);
            }
            else if (c == '+')
            {
                // Only meaningful before the number starts; "+84+912" or "0912+345" is not a number.
                if (hasPlus || builder.Length > 0)
                {
                    digits = string.Empty;
                    return false;
                }

                hasPlus = true;
            }
            else if (!IsSeparator(c))
            {
                digits = string.Empty;
                return false;
            }
        }

        digits = builder.ToString();
        return digits.Length > 0;
    }

    // Unicode dashes and minus are included because numbers pasted from documents and e-mail signatures
    // carry them where a keyboard would have typed "-".
    private static bool IsSeparator(char c) =>
        char.IsWhiteSpace(c)
        || c is '-' or '.' or '(' or ')' or '/' or '\u2212'
        || c is >= '\u2010' and <= '\u2015';

    private static (string CountryCode, string National)? SplitDialled(string digits, string defaultCountryCode)
    {
        foreach (var prefix in InternationalPrefixes(defaultCountryCode))
        {
            if (digits.StartsWith(prefix, StringComparison.Ordinal))
            {
                return SplitInternational(digits[prefix.Length..]);
            }
        }

        var trunk = TrunkPrefix(defaultCountryCode);
        if (trunk is not null
            && digits.Length > trunk.Length
            && digits.StartsWith(trunk, StringComparison.Ordinal)
            && TrunkIsPresent(digits, trunk, defaultCountryCode))
        {
            return (defaultCountryCode, digits[trunk.Length..]);
        }

        if (digits.StartsWith(defaultCountryCode, StringComparison.Ordinal)
            && IsTooLongForNational(digits, defaultCountryCode)
            && IsPlausibleNationalLength(digits.Length - defaultCountryCode.Length, defaultCountryCode))
        {
            return (defaultCountryCode, digits[defaultCountryCode.Length..]);
        }

        return (defaultCountryCode, digits);
    }

    // Longest first, so that Australia's "0011" is not read as "00" followed by country code 1.
    private static IEnumerable<string> InternationalPrefixes(string defaultCountryCode)
    {
        switch (defaultCountryCode)
        {
            case "61":
                yield return "0011";
                break;
            case Nanp:
                yield return "011";
                break;
            case "81":
                yield return "010";
                break;
        }

        // NANP does not use 00, but no NANP number starts with 0, so accepting it costs nothing and
        // catches numbers copied from European contacts.
        yield return "00";
    }

    // Countries with no trunk prefix whose numbers never start with 0 (Spain, Denmark, Singapore…) get
    // "0" too: no valid national number there starts with it, so removing it cannot spoil one.
    private static string? TrunkPrefix(string countryCode) =>
        LeadingZeroBelongsToNumber.Contains(countryCode) ? null
        : UnusualTrunkPrefixes.TryGetValue(countryCode, out var trunk) ? trunk
        : "0";

    // Russia's trunk "8" is also the first digit of its 800 freephone range, so "800 555 35 35" must not
    // lose its 8; only an 11-digit "8…" has a trunk prefix. Elsewhere the trunk prefix can never start
    // a national number, so seeing it is enough.
    private static bool TrunkIsPresent(string digits, string trunk, string countryCode) =>
        countryCode != "7" || digits.Length == trunk.Length + NationalLengths["7"].Max;

    private static bool IsTooLongForNational(string digits, string countryCode) =>
        NationalLengths.TryGetValue(countryCode, out var lengths)
            ? digits.Length > lengths.Max
            : countryCode.Length + digits.Length > MaxE164Digits;

    private static bool IsPlausibleNationalLength(int length, string countryCode) =>
        NationalLengths.TryGetValue(countryCode, out var lengths)
            ? length >= lengths.Min && length <= lengths.Max
            : length >= MinNationalDigits && countryCode.Length + length <= MaxE164Digits;

    private static (string CountryCode, string National)? SplitInternational(string digits)
    {
        for (var length = Math.Min(3, digits.Length); length >= 1; length--)
        {
            var candidate = digits[..length];
            if (!CallingCodes.Contains(candidate))
            {
                continue;
            }

            var national = digits[length..];
            // Only where the trunk prefix is "0" is a 0 here certainly a stray trunk prefix.
            if (national.StartsWith('0') && TrunkPrefix(candidate) == "0")
            {
                national = national[1..];
            }

            return (candidate, national);
        }

        return null;
    }

    private static bool IsPlausible(string countryCode, string national)
    {
        var total = countryCode.Length + national.Length;
        if (national.Length < MinNationalDigits || total < MinE164Digits || total > MaxE164Digits)
        {
            return false;
        }

        // NANP is a closed plan: a 3-digit area code that cannot start with 0 or 1, then 7 digits.
        return countryCode != Nanp || (national.Length == 10 && national[0] is >= '2' and <= '9');
    }
}
