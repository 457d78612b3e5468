// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title StorageProofs
/// @notice Checks that a raw leaf belongs to a UnixFS tree, by the tree's own CIDs: every
///         block on the path is hashed with the sha256 precompile against the CID its parent
///         links to. The leaf is not chosen by the prover: a seed picks a byte offset, and the
///         offset picks one link per node by the links' Tsize (docs/storage.md).
library StorageProofs {
    /// @dev CIDv1 prefixes of the links a path may follow: version 1, codec, sha2-256, 32 bytes.
    bytes4 internal constant DAG_PB_CID = 0x01701220;
    bytes4 internal constant RAW_CID = 0x01551220;
    /// @dev The fixed head of a dataset version (dag-cbor map of 5 keys, "time" first).
    bytes6 internal constant VERSION_HEAD = 0xa56474696d65;
    /// @dev `"tree"`, tag 42, bytes(37), identity multibase 0, then a CIDv1 dag-pb sha256.
    bytes14 internal constant TREE_LINK = 0x6474726565d82a58250001701220;

    error NotAVersion(uint256 pos);
    error MalformedNode(uint256 depth, uint256 pos);
    error HashMismatch(uint256 depth, bytes32 expected, bytes32 got);
    error WrongCodec(uint256 depth, bytes cid);
    error PathLength(uint256 given, uint256 used);
    error EmptyTree();

    /// @notice The tree root digest of a dataset version, and the version's own digest.
    function treeOf(bytes calldata commit) internal view returns (bytes32 version, bytes32 tree) {
        if (commit.length < 6 || bytes6(commit[0:6]) != VERSION_HEAD) revert NotAVersion(0);
        // "time" is a CBOR unsigned integer: 1, 2, 3, 5 or 9 bytes by its additional info.
        uint8 head = uint8(commit[6]);
        if (head >> 5 != 0) revert NotAVersion(6);
        uint8 info = head & 31;
        uint256 pos = 7;
        if (info == 24) pos += 1;
        else if (info == 25) pos += 2;
        else if (info == 26) pos += 4;
        else if (info == 27) pos += 8;
        else if (info > 27) revert NotAVersion(6);
        if (commit.length < pos + 46 || bytes14(commit[pos:pos + 14]) != TREE_LINK) revert NotAVersion(pos);
        tree = bytes32(commit[pos + 14:pos + 46]);
        version = sha256(commit);
    }

    /// @notice Checks a proof that `leaf` is the leaf `seed` draws from the tree `root`.
    /// @param nodes The dag-pb blocks from the root down to the leaf's parent.
    /// @param leaf The raw block drawn (empty when the path ends at a node with no links).
    /// @return offset The byte offset inside the tree the seed drew (for events and tests).
    function verify(bytes32 root, uint256 seed, bytes[] calldata nodes, bytes calldata leaf)
        internal
        view
        returns (uint256 offset)
    {
        bytes32 expected = root;
        uint256 target = seed;
        for (uint256 depth = 0; depth < nodes.length; depth++) {
            bytes calldata node = nodes[depth];
            bytes32 got = sha256(node);
            if (got != expected) revert HashMismatch(depth, expected, got);
            uint256 total = linkSum(node, depth);
            if (total == 0) {
                // An empty directory: the path ends here, nothing below to hold.
                if (depth + 1 != nodes.length || leaf.length != 0) revert PathLength(nodes.length, depth + 1);
                return offset;
            }
            target %= total;
            if (depth == 0) offset = target;
            (bytes calldata cid, uint256 start) = pick(node, depth, target);
            target -= start;
            bool last = depth + 1 == nodes.length;
            expected = digestOf(cid, depth, last);
        }
        if (nodes.length == 0) revert EmptyTree();
        bytes32 leafHash = sha256(leaf);
        if (leafHash != expected) revert HashMismatch(nodes.length, expected, leafHash);
    }

    /// @dev The digest a picked CID names, if it has the codec the path needs at this depth:
    ///      a raw leaf last, a dag-pb node before (CIDv1, or a CIDv0 which is always dag-pb).
    function digestOf(bytes calldata cid, uint256 depth, bool last) private pure returns (bytes32) {
        if (cid.length == 36 && bytes4(cid[0:4]) == (last ? RAW_CID : DAG_PB_CID)) return bytes32(cid[4:36]);
        if (!last && cid.length == 34 && cid[0] == 0x12 && cid[1] == 0x20) return bytes32(cid[2:34]);
        revert WrongCodec(depth, cid);
    }

    /// @notice Σ Tsize of a dag-pb node's links: the bytes a challenge can land in below it.
    function linkSum(bytes calldata node, uint256 depth) internal pure returns (uint256 total) {
        uint256 p = 0;
        while (p < node.length && byteAt(node, p) == 0x12) {
            uint256 tsize;
            (p,,, tsize) = nextLink(node, p, depth);
            total += tsize;
        }
        checkTail(node, p, depth);
    }

    /// @notice The link of a dag-pb node whose cumulative Tsize range holds `target`, and
    ///         where that range starts. `target` must be below the node's link sum.
    function pick(bytes calldata node, uint256 depth, uint256 target)
        internal
        pure
        returns (bytes calldata cid, uint256 start)
    {
        uint256 p = 0;
        while (p < node.length && byteAt(node, p) == 0x12) {
            (uint256 next, uint256 hashStart, uint256 hashEnd, uint256 tsize) = nextLink(node, p, depth);
            if (target < start + tsize) return (node[hashStart:hashEnd], start);
            start += tsize;
            p = next;
        }
        revert MalformedNode(depth, p);
    }

    /// @dev After the links: at most one Data field (1), then the end of the block.
    function checkTail(bytes calldata node, uint256 p, uint256 depth) private pure {
        if (p < node.length) {
            if (byteAt(node, p) != 0x0a) revert MalformedNode(depth, p);
            (, p) = field(node, p + 1, depth);
        }
        if (p != node.length) revert MalformedNode(depth, p);
    }

    /// @dev The PBLink whose tag (field 2) is at `p`: Hash (1, required), Name (2), Tsize (3),
    ///      in that order, and where the next field starts. It runs once per link of every
    ///      node on the path, twice: written in Yul, it costs a few hundred gas a link where
    ///      the same checks in Solidity cost several times that.
    function nextLink(bytes calldata node, uint256 p, uint256 depth)
        private
        pure
        returns (uint256 next, uint256 hashStart, uint256 hashEnd, uint256 tsize)
    {
        bool bad;
        assembly {
            // The varint at `i`, all of it below `end`: its value and the position after it,
            // or j = 0 when it is cut off or longer than 9 bytes (63 bits).
            function vint(base, i, end) -> v, j {
                for { let k := 0 } lt(k, 9) { k := add(k, 1) } {
                    if iszero(lt(i, end)) { leave }
                    let c := byte(0, calldataload(add(base, i)))
                    v := or(v, shl(mul(7, k), and(c, 0x7f)))
                    i := add(i, 1)
                    if lt(c, 0x80) {
                        j := i
                        leave
                    }
                }
            }
            // Lengths are below 2^63 and positions below the calldata size: no sum overflows.
            let base := node.offset
            let ok := 0
            let size, q := vint(base, add(p, 1), node.length)
            next := add(q, size)
            if and(iszero(iszero(q)), iszero(gt(next, node.length))) {
                // Hash (field 1), required: tag, then a one-byte length (a CID is far below 128 bytes).
                let h := shr(240, calldataload(add(base, q)))
                if and(lt(add(q, 1), next), and(eq(shr(8, h), 0x0a), lt(and(h, 0xff), 0x80))) {
                    hashStart := add(q, 2)
                    hashEnd := add(hashStart, and(h, 0xff))
                    q := hashEnd
                    ok := iszero(gt(q, next))
                    // Name (field 2), optional.
                    if and(ok, and(lt(q, next), eq(byte(0, calldataload(add(base, q))), 0x12))) {
                        let nameSize, nameStart := vint(base, add(q, 1), next)
                        q := add(nameStart, nameSize)
                        if or(iszero(nameStart), gt(q, next)) { ok := 0 }
                    }
                    // Tsize (field 3), optional.
                    if and(ok, and(lt(q, next), eq(byte(0, calldataload(add(base, q))), 0x18))) {
                        tsize, q := vint(base, add(q, 1), next)
                    }
                    if iszero(eq(q, next)) { ok := 0 }
                }
            }
            bad := iszero(ok)
        }
        if (bad) revert MalformedNode(depth, p);
    }

    /// @dev A length-delimited field's body `[start, end)`, checked to lie inside the block.
    function field(bytes calldata node, uint256 p, uint256 depth) private pure returns (uint256 start, uint256 end) {
        uint256 length;
        (length, start) = varint(node, p, depth);
        // Cannot overflow: `start` is below the block's length and `length` below 2^63.
        unchecked {
            end = start + length;
        }
        if (end > node.length) revert MalformedNode(depth, p);
    }

    /// @dev A protobuf varint of at most 9 bytes (63 bits: Tsize and lengths are uint64).
    function varint(bytes calldata node, uint256 p, uint256 depth) private pure returns (uint256 value, uint256 next) {
        uint256 n = node.length;
        // Cannot overflow: `p + i` stays below the block's length (checked), shifts below 63.
        unchecked {
            for (uint256 i = 0; i < 9; i++) {
                if (p + i >= n) revert MalformedNode(depth, p + i);
                uint256 b = byteAt(node, p + i);
                value |= (b & 0x7f) << (7 * i);
                if (b < 0x80) return (value, p + i + 1);
            }
        }
        revert MalformedNode(depth, p);
    }

    /// @dev The byte at `i` of `node`, without a bounds check: every caller checks `i < length`.
    function byteAt(bytes calldata node, uint256 i) private pure returns (uint256 b) {
        assembly {
            b := byte(0, calldataload(add(node.offset, i)))
        }
    }
}
