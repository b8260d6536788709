using System.Text;
using DeepSentinel.Core.Hashing;

namespace DeepSentinel.Core.Tests.Hashing;

public sealed class Crc32CTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xC1D04330u)]
    [InlineData("123456789", 0xE3069283u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x22620404u)]
    public void Matches_published_check_values(string text, uint expected)
    {
        Assert.Equal(expected, Crc32C.HashToUInt32(Encoding.ASCII.GetBytes(text)));
        Assert.Equal(expected, Crc32C.HashWithTable(Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void Incremental_equals_one_shot_and_hardware_equals_table()
    {
        var data = new byte[100_003];
        new Random(7).NextBytes(data);
        var crc = new Crc32C();
        crc.Append(data.AsSpan(0, 12_345));
        crc.Append(data.AsSpan(12_345));

        Assert.Equal(Crc32C.HashToUInt32(data), crc.GetCurrentHashAsUInt32());
        Assert.Equal(Crc32C.HashWithTable(data), Crc32C.HashToUInt32(data));
        Assert.Equal(4, crc.GetCurrentHash().Length);
    }

    [Fact]
    public void Masks_as_TFRecord_does()
    {
        // masked_crc = ((crc >> 15) | (crc << 17)) + 0xa282ead8, for crc32c("") = 0.
        Assert.Equal(0xa282ead8u, Crc32C.Mask(0));
        Assert.Equal(unchecked(((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u), Crc32C.Mask(0xE3069283u));
    }
}
