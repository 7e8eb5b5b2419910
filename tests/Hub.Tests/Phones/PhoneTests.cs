using Hub.Store.Phones;

namespace Hub.Tests.Phones;

/// <summary>How <see cref="Phone.Normalise"/> reads the ways numbers are written; <see cref="CountryTableTests"/> for every form in 40+ countries.</summary>
public class PhoneTests
{
    [Theory]
    // Vietnam: the home market, so every way agents and customers write numbers.
    [InlineData("0912345678", "84", "+84912345678")]
    [InlineData("+84 912 345 678", "84", "+84912345678")]
    [InlineData("84912345678", "84", "+84912345678")]
    [InlineData("0084912345678", "84", "+84912345678")]
    [InlineData("(+84) 912-345-678", "84", "+84912345678")]
    [InlineData("+84 (0) 912 345 678", "84", "+84912345678")]
    [InlineData("+840912345678", "84", "+84912345678")]
    [InlineData("091.234.5678", "84", "+84912345678")]
    [InlineData("0912\u00A0345\u00A0678", "84", "+84912345678")]
    [InlineData("0912/345/678", "84", "+84912345678")]
    [InlineData("912345678", "84", "+84912345678")]
    [InlineData("84 912 345 678", "84", "+84912345678")]
    [InlineData("098 612 3456", "84", "+84986123456")]
    [InlineData("024 3825 1234", "84", "+842438251234")]
    [InlineData("+84 24 3825 1234", "84", "+842438251234")]
    [InlineData("842438251234", "84", "+842438251234")]
    [InlineData("028 3822 1234", "84", "+842838221234")]
    [InlineData("001 212 555 0123", "84", "+12125550123")]
    [InlineData("00390612345678", "84", "+390612345678")]
    // United States / Canada (NANP).
    [InlineData("+1 (555) 010-2030", "1", "+15550102030")]
    [InlineData("15550102030", "1", "+15550102030")]
    [InlineData("1-555-010-2030", "1", "+15550102030")]
    [InlineData("1 555 010 2030", "1", "+15550102030")]
    [InlineData("555.010.2030", "1", "+15550102030")]
    [InlineData("(555) 010-2030", "1", "+15550102030")]
    [InlineData("+1 416 555 0199", "84", "+14165550199")]
    [InlineData("011 44 20 7946 0958", "1", "+442079460958")]
    // United Kingdom.
    [InlineData("020 7946 0958", "44", "+442079460958")]
    [InlineData("+44 (0)20 7946 0958", "44", "+442079460958")]
    [InlineData("(0)20 7946 0958", "44", "+442079460958")]
    [InlineData("00442079460958", "44", "+442079460958")]
    [InlineData("442079460958", "44", "+442079460958")]
    [InlineData("07700 900123", "44", "+447700900123")]
    // Germany: variable-length numbers.
    [InlineData("030 123456", "49", "+4930123456")]
    [InlineData("+49 30 1234 5678", "49", "+493012345678")]
    [InlineData("0151 23456789", "49", "+4915123456789")]
    [InlineData("0049 89 123456", "84", "+4989123456")]
    // France.
    [InlineData("01 23 45 67 89", "33", "+33123456789")]
    [InlineData("06.12.34.56.78", "33", "+33612345678")]
    [InlineData("+33 6 12 34 56 78", "33", "+33612345678")]
    [InlineData("33612345678", "33", "+33612345678")]
    // Australia, including its own international prefix.
    [InlineData("(02) 9876 5432", "61", "+61298765432")]
    [InlineData("0412 345 678", "61", "+61412345678")]
    [InlineData("+61 4 1234 5678", "61", "+61412345678")]
    [InlineData("0011 44 20 7946 0958", "61", "+442079460958")]
    // Japan, including its own international prefix.
    [InlineData("03-1234-5678", "81", "+81312345678")]
    [InlineData("090-1234-5678", "81", "+819012345678")]
    [InlineData("+81 90 1234 5678", "81", "+819012345678")]
    [InlineData("010 84 912 345 678", "81", "+84912345678")]
    // Singapore: no trunk prefix, eight digits.
    [InlineData("9123 4567", "65", "+6591234567")]
    [InlineData("6512 3456", "65", "+6565123456")]
    [InlineData("+65 6123 4567", "65", "+6561234567")]
    [InlineData("6591234567", "65", "+6591234567")]
    // India.
    [InlineData("098765 43210", "91", "+919876543210")]
    [InlineData("98765 43210", "91", "+919876543210")]
    [InlineData("+91 98765 43210", "91", "+919876543210")]
    [InlineData("919876543210", "91", "+919876543210")]
    // Italy: the leading 0 is part of the number, nationally and internationally.
    [InlineData("06 1234 5678", "39", "+390612345678")]
    [InlineData("+39 06 1234 5678", "39", "+390612345678")]
    [InlineData("390612345678", "39", "+390612345678")]
    [InlineData("347 123 4567", "39", "+393471234567")]
    // Russia: trunk prefix 8, which is also the first digit of freephone numbers.
    [InlineData("8 912 345-67-89", "7", "+79123456789")]
    [InlineData("+7 912 345 67 89", "7", "+79123456789")]
    [InlineData("8 800 555-35-35", "7", "+78005553535")]
    [InlineData("800 555 35 35", "7", "+78005553535")]
    // China and Hungary.
    [InlineData("138 0013 8000", "86", "+8613800138000")]
    [InlineData("010 1234 5678", "86", "+861012345678")]
    [InlineData("06 1 234 5678", "36", "+3612345678")]
    public void Number_normalises_to_e164(string raw, string defaultCountryCode, string expected)
    {
        var number = Phone.Normalise(raw, defaultCountryCode);

        Assert.NotNull(number);
        Assert.Equal(expected, number.Value.E164);
        Assert.Null(number.Value.Extension);
        Assert.Equal(expected, "+" + number.Value.CountryCode + number.Value.National);
    }

    [Theory]
    [InlineData("0912345678", "84", "84", "912345678")]
    [InlineData("+44 (0)20 7946 0958", "44", "44", "2079460958")]
    [InlineData("06 1234 5678", "39", "39", "0612345678")]
    [InlineData("1 555 010 2030", "1", "1", "5550102030")]
    [InlineData("0011 65 9123 4567", "61", "65", "91234567")]
    public void Country_code_and_national_number_are_split_without_trunk_prefix(
        string raw, string defaultCountryCode, string expectedCountryCode, string expectedNational)
    {
        var number = Phone.Normalise(raw, defaultCountryCode);

        Assert.NotNull(number);
        Assert.Equal(expectedCountryCode, number.Value.CountryCode);
        Assert.Equal(expectedNational, number.Value.National);
    }

    [Theory]
    [InlineData("+84 912 345 678 x123", "84", "+84912345678", "123")]
    [InlineData("0912345678x9", "84", "+84912345678", "9")]
    [InlineData("0912345678 ext 45", "84", "+84912345678", "45")]
    [InlineData("0912345678 ext. 45", "84", "+84912345678", "45")]
    [InlineData("0912345678 EXT.45", "84", "+84912345678", "45")]
    [InlineData("+1 555 010 2030;ext=789", "1", "+15550102030", "789")]
    [InlineData("(555) 010-2030 #12", "1", "+15550102030", "12")]
    [InlineData("020 7946 0958 X 7", "44", "+442079460958", "7")]
    [InlineData("+44 20 7946 0958 extension 2001", "44", "+442079460958", "2001")]
    public void Extension_is_split_off_and_kept_out_of_e164(
        string raw, string defaultCountryCode, string expectedE164, string expectedExtension)
    {
        var number = Phone.Normalise(raw, defaultCountryCode);

        Assert.NotNull(number);
        Assert.Equal(expectedE164, number.Value.E164);
        Assert.Equal(expectedExtension, number.Value.Extension);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("abc")]
    [InlineData("+")]
    [InlineData("+84")]
    [InlineData("12345678901234567890")]
    [InlineData("+0 123 456")]
    [InlineData("+999 123 456 789")]
    [InlineData("0912345678#")]
    [InlineData("0912+345678")]
    [InlineData("*100#")]
    [InlineData("+84 912 345 678 901 234")]
    public void Input_that_cannot_be_a_phone_number_gives_null(string? raw)
    {
        Assert.Null(Phone.Normalise(raw, "84"));
    }

    [Theory]
    // Short codes and service numbers: libphonenumber knows them as too short, not as wrong.
    [InlineData("1080", "84", "+841080")]
    [InlineData("112", "84", "+84112")]
    [InlineData("*1080", "84", "+841080")]
    // Numbers outside the ranges libphonenumber knows (555-01xx is fiction's; area codes never start with 0).
    [InlineData("(555) 010-2030", "1", "+15550102030")]
    [InlineData("+1 055 010 2030", "1", "+10550102030")]
    [InlineData("555 010 203", "1", "+1555010203")]
    [InlineData("+1 555 010 20301", "1", "+155501020301")]
    public void Numbers_libphonenumber_does_not_know_to_be_valid_still_normalise(string raw, string defaultCountryCode, string expected)
    {
        var number = Phone.Normalise(raw, defaultCountryCode);

        Assert.NotNull(number);
        Assert.Equal(expected, number.Value.E164);
        Assert.Equal(number, Phone.Normalise(expected, defaultCountryCode));
    }

    [Theory]
    [InlineData("011 15-2345-6789")]
    [InlineData("01115 2345 6789")]
    [InlineData("+54 9 11 2345 6789")]
    [InlineData("+5491123456789")]
    [InlineData("5491123456789")]
    public void Argentine_mobile_national_form_is_the_same_number_as_its_international_form(string raw)
    {
        Assert.Equal("+5491123456789", Phone.Normalise(raw, "AR")?.E164);
        Assert.Equal("+5491123456789", Phone.Normalise(raw, "54")?.E164);
    }

    [Theory]
    [InlineData("4915123456789", "49", "+4915123456789")]
    [InlineData("4915123456789", "DE", "+4915123456789")]
    [InlineData("015123456789", "49", "+4915123456789")]
    [InlineData("84912345678", "84", "+84912345678")]
    [InlineData("6591234567", "65", "+6591234567")]
    [InlineData("62812345678", "62", "+62812345678")]
    // Another country's number written with its code and no "+", when it is not a valid national number.
    [InlineData("12125550123", "84", "+12125550123")]
    // "00" where the country dials out with another prefix (Singapore 001/008…, the US 011).
    [InlineData("0065 9123 4567", "65", "+6591234567")]
    [InlineData("0044 20 7946 0958", "1", "+442079460958")]
    public void Digits_with_the_country_code_but_no_plus_are_read_as_international(string raw, string defaultCountry, string expected)
    {
        Assert.Equal(expected, Phone.Normalise(raw, defaultCountry)?.E164);
    }

    [Theory]
    [InlineData("tel:+84912345678", null)]
    [InlineData("TEL:+84912345678", null)]
    [InlineData("tel:+84-91-234-56-78", null)]
    [InlineData("tel:+84912345678;ext=123", "123")]
    [InlineData("tel:+84912345678;isub=9", null)]
    [InlineData("tel:+84912345678;carrier=viettel;ext=7", "7")]
    [InlineData("tel:0912345678;phone-context=+84", null)]
    [InlineData("tel:0912345678", null)]
    public void Tel_uris_normalise_to_their_number(string raw, string? extension)
    {
        var number = Phone.Normalise(raw, "84");

        Assert.NotNull(number);
        Assert.Equal("+84912345678", number.Value.E164);
        Assert.Equal(extension, number.Value.Extension);
    }

    [Fact]
    public void Input_longer_than_any_real_phone_number_spelling_gives_null()
    {
        Assert.Null(Phone.Normalise("0912345678" + new string(' ', 200), "84"));
    }

    [Fact]
    public void Vietnamese_national_international_and_bare_forms_are_the_same_number()
    {
        var national = Phone.Normalise("0912345678", "84");
        var international = Phone.Normalise("+84 912 345 678", "84");
        var bare = Phone.Normalise("84912345678", "84");

        Assert.NotNull(national);
        Assert.NotNull(international);
        Assert.NotNull(bare);
        Assert.Equal(national.Value.E164, international.Value.E164);
        Assert.Equal(national.Value.E164, bare.Value.E164);
        Assert.Equal("912345678", national.Value.National);
        Assert.Equal(national.Value.National, international.Value.National);
        Assert.Equal(national.Value.National, bare.Value.National);
        Assert.Equal(national, international);
        Assert.Equal(national, bare);
    }

    [Theory]
    [InlineData("")]
    [InlineData("+84")]
    [InlineData("999")]
    [InlineData("XX")]
    [InlineData("800")]
    [InlineData(null)]
    public void Unknown_default_country_code_is_a_configuration_error(string? defaultCountryCode)
    {
        Assert.Throws<ArgumentException>(() => Phone.Normalise("0912345678", defaultCountryCode!));
    }

    [Theory]
    [InlineData("84")]
    [InlineData("1")]
    [InlineData("44")]
    [InlineData("358")]
    [InlineData("7")]
    [InlineData("886")]
    [InlineData("VN")]
    [InlineData("vn")]
    [InlineData("GB")]
    [InlineData("AR")]
    public void Known_calling_codes_and_regions_are_valid(string code)
    {
        Assert.True(DefaultCountry.IsValid(code));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("084")]
    [InlineData("999999")]
    [InlineData("abc")]
    [InlineData("84a")]
    [InlineData("+84")]
    [InlineData("999")]
    [InlineData("21")]
    [InlineData("٨٤")]
    [InlineData("XX")]
    [InlineData("ZZ")]
    [InlineData("001")]
    [InlineData("VNM")]
    // Non-geographic (freephone, networks): no national form to read numbers in.
    [InlineData("800")]
    [InlineData("882")]
    public void Malformed_unassigned_or_non_geographic_calling_codes_and_regions_are_invalid(string? code)
    {
        Assert.False(DefaultCountry.IsValid(code));
    }
}
