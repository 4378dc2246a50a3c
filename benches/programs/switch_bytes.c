// A branchy byte classifier: each of the first 256 bytes of mem goes
// through a switch that updates a state differently per class (digits,
// letters, whitespace, punctuation, a few control bytes, high bytes).
// Entry: r1 = mem (at least 256 bytes). Returns the final state.
typedef unsigned char u8;
typedef unsigned long long u64;

u64 switch_bytes(const u8 *mem)
{
	u64 digits = 0, alpha = 0, space = 0, other = 0, state = 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < 256; i++) {
		u8 c = mem[i];
		switch (c) {
		case '0': case '1': case '2': case '3': case '4':
		case '5': case '6': case '7': case '8': case '9':
			digits += c - '0';
			state = state * 10 + (c - '0');
			break;
		case ' ': case '\t':
			space++;
			state ^= state >> 7;
			break;
		case '\n': case '\r':
			space += 2;
			state = (state << 3) | (state >> 61);
			break;
		case ',': case ';': case ':':
			other += 3;
			state += i;
			break;
		case '.': case '!': case '?':
			other += 5;
			state -= i;
			break;
		case 0:
			state = ~state;
			break;
		default:
			if (c >= 'a' && c <= 'z')
				alpha += c - 'a' + 1;
			else if (c >= 'A' && c <= 'Z')
				alpha += (u64)(c - 'A' + 1) << 8;
			else if (c >= 0x80)
				state ^= (u64)c << (i & 31);
			else
				other++;
		}
	}
	return state ^ (digits << 48) ^ (alpha << 24) ^ (space << 16) ^ other;
}
