using Hub.Store.Phones;
using PhoneNumbers;

namespace Hub.Tests.Phones;

/// <summary>
/// Every way a number is written, in more than 40 countries, with libphonenumber's own example numbers: each form
/// gives the same E.164 with that country as the default (by region code and, where the country is its calling
/// code's main region, by calling code), and the number with its last digit changed never does.
/// </summary>
public class CountryTableTests
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    private static readonly string[] Regions =
    [
        "VN", "US", "CA", "GB", "DE", "FR", "IT", "ES", "PT", "NL", "BE", "CH", "AT", "SE", "NO", "DK", "FI", "PL", "CZ", "HU",
        "RO", "GR", "IE", "RU", "KZ", "UA", "TR", "IL", "AE", "SA", "EG", "ZA", "NG", "KE", "IN", "PK", "BD", "CN", "HK", "TW",
        "JP", "KR", "SG", "MY", "TH", "ID", "PH", "AU", "NZ", "BR", "AR", "MX", "CL", "CO", "PE", "SM", "CI",
    ];

    public static TheoryData<string, PhoneNumberType> Examples()
    {
        var data = new TheoryData<string, PhoneNumberType>();
        foreach (var region in Regions)
        {
            data.Add(region, PhoneNumberType.MOBILE);
            data.Add(region, PhoneNumberType.FIXED_LINE);
        }

        return data;
    }

    [Fact]
    public void The_table_covers_at_least_forty_countries()
    {
        Assert.True(Regions.Distinct().Count() >= 40);
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_written_form_of_a_number_normalises_to_its_e164(string region, PhoneNumberType type)
    {
        var example = Util.GetExampleNumberForType(region, type);
        var e164 = Util.Format(example, PhoneNumberFormat.E164);

        foreach (var (form, written) in Forms(region, example))
        {
            foreach (var defaultCountry in Defaults(region, example))
            {
                var number = Phone.Normalise(written, defaultCountry);
                Assert.True(number is { } n && n.E164 == e164 && n.National == Util.GetNationalSignificantNumber(example),
                    $"{region} {type} {form} '{written}' with default {defaultCountry}: {number?.E164 ?? "null"}, not {e164}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void The_number_with_its_last_digit_changed_never_matches(string region, PhoneNumberType type)
    {
        var example = Util.GetExampleNumberForType(region, type);
        var e164 = Util.Format(example, PhoneNumberFormat.E164);
        var national = Util.GetNationalSignificantNumber(example);
        var neighbour = Util.Parse(e164[..^1] + (char)('0' + ((e164[^1] - '0' + 1) % 10)), "ZZ");

        foreach (var (form, written) in Forms(region, neighbour))
        {
            var number = Phone.Normalise(written, region);
            Assert.True(number is { } n && n.E164 != e164 && n.National != national,
                $"{region} {type} neighbour {form} '{written}': {number?.E164 ?? "null"} matches {e164}");
        }
    }

    private static IEnumerable<string> Defaults(string region, PhoneNumbers.PhoneNumber example)
    {
        yield return region;
        if (Util.GetRegionCodeForCountryCode(example.CountryCode) == region)
        {
            yield return example.CountryCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static IEnumerable<(string Form, string Written)> Forms(string region, PhoneNumbers.PhoneNumber number)
    {
        var e164 = Util.Format(number, PhoneNumberFormat.E164);
        var national = Util.Format(number, PhoneNumberFormat.NATIONAL);
        var countryCode = number.CountryCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var digits = countryCode + Util.GetNationalSignificantNumber(number);
        yield return ("E.164", e164);
        yield return ("international", Util.Format(number, PhoneNumberFormat.INTERNATIONAL));
        yield return ("national", national);
        yield return ("national without punctuation", new string([.. national.Where(char.IsAsciiDigit)]));
        yield return ("00 prefix", "00" + digits);
        if (ExitCode(region) is { } exitCode)
        {
            yield return ("the country's own exit code", exitCode + digits);
        }

        yield return ("digits with country code", digits);
        yield return ("tel: URI", "tel:" + e164);
        yield return ("tel: URI (RFC 3966 format)", Util.Format(number, PhoneNumberFormat.RFC3966));
        yield return ("tel: URI with an extension", "tel:" + e164 + ";ext=12");
    }

    // "011" in NANP, "010" in Japan, "0011" in Australia, "8~10" (the wait for a tone removed) in Russia.
    private static string? ExitCode(string region)
    {
        var metadata = Util.GetMetadataForRegion(region);
        var prefix = (metadata.HasPreferredInternationalPrefix ? metadata.PreferredInternationalPrefix : metadata.InternationalPrefix).Replace("~", "", StringComparison.Ordinal);
        return prefix.All(char.IsAsciiDigit) && prefix != "00" ? prefix : null;
    }
}
