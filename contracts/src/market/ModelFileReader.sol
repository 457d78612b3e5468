// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ModelFileReader
/// @notice Reads bytes of a file of a run's UnixFS tree by byte offset, every block hashed
///         with the sha256 precompile against the CID its parent links to (docs/design.md,
///         "The model file"). A block that does not hash to its link is the caller's
///         mistake and reverts; a block that does hash but is not laid out as the store
///         lays files out (raw leaves under dag-pb file nodes whose UnixFS blocksizes give
///         each child's bytes) is the publisher's, and is reported, not reverted, so a
///         malformed run can be held against the one who published it.
library ModelFileReader {
    /// @dev CIDv1 prefixes: version 1, codec, sha2-256, 32 bytes; and a CIDv0's multihash head.
    bytes4 internal constant DAG_PB_CID = 0x01701220;
    bytes4 internal constant RAW_CID = 0x01551220;
    bytes2 internal constant V0_CID = 0x1220;

    /// @notice How a read ended.
    uint8 internal constant OK = 0;
    /// @notice The file ends before the byte read.
    uint8 internal constant PAST_END = 1;
    /// @notice A block under the run's CID breaks the layout (codec, protobuf, sizes).
    uint8 internal constant MALFORMED = 2;
    /// @notice The directory holds no entry of the name looked for.
    uint8 internal constant MISSING = 3;

    /// @notice One leaf of the file, with the dag-pb file nodes from the file's root down
    ///         to its parent (none when the file is a single raw leaf).
    struct Segment {
        bytes[] nodes;
        bytes leaf;
    }

    /// @notice A link: the block's sha256 digest and whether it is a raw leaf (else dag-pb).
    struct Link {
        bytes32 digest;
        bool raw;
    }

    /// @dev What a dag-pb file node says of the byte looked for: the bytes below it
    ///      (Σ blocksizes), and the child holding the byte, where it starts and its size.
    struct Pick {
        bool ok; // false: the node breaks the layout
        uint256 total;
        uint256 start;
        uint256 size;
        Link child;
    }

    /// @notice A block given does not hash to the digest its parent links to.
    error HashMismatch(uint256 depth, bytes32 expected, bytes32 got);
    /// @notice The nodes of a segment are not the path its links name: `given` nodes, `needed` by the walk.
    error PathLength(uint256 given, uint256 needed);
    /// @notice The segments given are not the leaves the read needs: `given`, `used`.
    error SegmentCount(uint256 given, uint256 used);

    /// @notice The link named `name` among the links of dag-pb directory node `node`.
    /// @return status OK, MISSING, or MALFORMED (a link that is not a sha256 raw or dag-pb CID
    ///         counts as malformed when it is the one named).
    function entry(bytes calldata node, bytes memory name) internal pure returns (uint8 status, Link memory link) {
        uint256 p = 0;
        bytes32 wanted = keccak256(name);
        while (p < node.length && node[p] == 0x12) {
            (bool ok, uint256 next, uint256 hashStart, uint256 hashEnd, uint256 nameStart, uint256 nameEnd) = _link(node, p);
            if (!ok) return (MALFORMED, link);
            if (keccak256(node[nameStart:nameEnd]) == wanted) {
                (ok, link) = _linkOf(node[hashStart:hashEnd]);
                return (ok ? OK : MALFORMED, link);
            }
            p = next;
        }
        return (MISSING, link);
    }

    /// @notice The link a CID's bytes name, if it is a sha256 raw or dag-pb CID.
    function linkOf(bytes calldata cid) internal pure returns (bool ok, Link memory link) {
        return _linkOf(cid);
    }

    /// @notice Bytes [from, from + count) of the file `file`, from `segments`: the leaves
    ///         that hold them, in order, each with its path.
    /// @return status OK, PAST_END (the file is shorter) or MALFORMED.
    /// @return out The bytes read (as far as the read got).
    /// @return leafStart Where the last leaf read starts in the file.
    function read(Link memory file, uint256 from, uint256 count, Segment[] calldata segments)
        internal
        pure
        returns (uint8 status, bytes memory out, uint256 leafStart)
    {
        out = new bytes(count);
        uint256 used = 0;
        uint256 k = 0;
        while (k < count) {
            uint256 pos = from + k;
            if (used >= segments.length) revert SegmentCount(segments.length, used + 1);
            Segment calldata s = segments[used++];
            (status, leafStart) = _walk(file, pos, s);
            if (status != OK) return (status, out, leafStart);
            // _walk checked leafStart <= pos < leafStart + s.leaf.length: a leaf at a time.
            uint256 n = s.leaf.length - (pos - leafStart);
            if (n > count - k) n = count - k;
            bytes calldata piece = s.leaf[pos - leafStart:pos - leafStart + n];
            assembly ("memory-safe") {
                calldatacopy(add(add(out, 32), k), piece.offset, n)
            }
            k += n;
        }
        if (used != segments.length) revert SegmentCount(segments.length, used);
    }

    /// @dev The leaf of `s` holds byte `pos` of the file: checks the path and says where the leaf starts.
    function _walk(Link memory file, uint256 pos, Segment calldata s) private pure returns (uint8 status, uint256 start) {
        Link memory link = file;
        uint256 size = type(uint256).max; // the bytes the parent says this block holds (none for the root)
        for (uint256 depth = 0;; depth++) {
            if (link.raw) {
                if (s.nodes.length != depth) revert PathLength(s.nodes.length, depth);
                bytes32 got = sha256(s.leaf);
                if (got != link.digest) revert HashMismatch(depth, link.digest, got);
                if (depth == 0) return (pos < s.leaf.length ? OK : PAST_END, 0);
                return (s.leaf.length == size ? OK : MALFORMED, start);
            }
            if (s.nodes.length <= depth) revert PathLength(s.nodes.length, depth + 1);
            bytes32 digest = sha256(s.nodes[depth]);
            if (digest != link.digest) revert HashMismatch(depth, link.digest, digest);
            Pick memory pick = _pick(s.nodes[depth], pos - start);
            if (!pick.ok || (depth > 0 && pick.total != size)) return (MALFORMED, start);
            if (pos - start >= pick.total) return (PAST_END, start); // only at the root: below it total == size > pos - start
            start += pick.start;
            size = pick.size;
            link = pick.child;
        }
    }

    /// @dev In a dag-pb file node, what it says of byte `target` below it (see {Pick}). Links (field 2) come first, then the
    ///      UnixFS Data (field 1): Type file, no inline data, one blocksize per link.
    function _pick(bytes calldata node, uint256 target) private pure returns (Pick memory pick) {
        uint256 p = 0;
        uint256 links = 0;
        bool ok;
        // First the Data, after the links; a node holds at most a few hundred links.
        while (p < node.length && node[p] == 0x12) {
            uint256 next;
            (ok, next,,,,) = _link(node, p);
            if (!ok) return pick;
            links++;
            p = next;
        }
        if (p >= node.length || node[p] != 0x0a) return pick;
        (bool fieldOk, uint256 dataStart, uint256 dataEnd) = _bytesField(node, p + 1, node.length);
        if (!fieldOk || dataEnd != node.length) return pick;
        (bool sizesOk, uint256 sizes, uint256 picked) = _blockSizes(node[dataStart:dataEnd], target, pick);
        ok = sizesOk;
        if (!ok || sizes != links) return pick;
        if (picked == type(uint256).max) {
            pick.ok = true;
            return pick;
        }
        // The picked link's CID, walking the links again.
        p = 0;
        for (uint256 i = 0; i < picked; i++) (, p,,,,) = _link(node, p);
        (,, uint256 hashStart, uint256 hashEnd,,) = _link(node, p);
        (pick.ok, pick.child) = _linkOf(node[hashStart:hashEnd]);
    }

    /// @dev A UnixFS Data message of a file: Type (1) = 2, optional empty Data (2), optional
    ///      filesize (3), blocksizes (4, one varint each). Returns how many blocksizes and the
    ///      index of the one holding `target` (max if none); sets their sum, and that one's
    ///      start and size, in `pick`.
    function _blockSizes(bytes calldata data, uint256 target, Pick memory pick)
        private
        pure
        returns (bool ok, uint256 count, uint256 picked)
    {
        picked = type(uint256).max;
        if (data.length < 2 || data[0] != 0x08 || data[1] != 0x02) return (false, 0, picked);
        uint256 p = 2;
        uint256 value;
        while (p < data.length) {
            bytes1 tag = data[p];
            if (tag == 0x12) {
                uint256 s;
                uint256 e;
                (ok, s, e) = _bytesField(data, p + 1, data.length);
                if (!ok || e != s) return (false, 0, picked); // inline data: not the store's layout
                p = e;
            } else if (tag == 0x18 || tag == 0x20) {
                (ok, value, p) = _varint(data, p + 1, data.length);
                if (!ok) return (false, 0, picked);
                if (tag == 0x20) {
                    if (picked == type(uint256).max && target < pick.total + value) (picked, pick.start, pick.size) = (count, pick.total, value);
                    count++;
                    pick.total += value;
                }
            } else {
                return (false, 0, picked);
            }
        }
        ok = true;
    }

    /// @dev The PBLink whose tag is at `p`: Hash (1, required), Name (2), Tsize (3), in
    ///      that order; where its hash and name lie and where the next field starts.
    function _link(bytes calldata node, uint256 p)
        private
        pure
        returns (bool ok, uint256 next, uint256 hashStart, uint256 hashEnd, uint256 nameStart, uint256 nameEnd)
    {
        uint256 q;
        (ok, q, next) = _bytesField(node, p + 1, node.length);
        if (!ok || q >= next || node[q] != 0x0a) return (false, 0, 0, 0, 0, 0);
        (ok, hashStart, hashEnd) = _bytesField(node, q + 1, next);
        if (!ok) return (false, 0, 0, 0, 0, 0);
        q = hashEnd;
        nameStart = q;
        nameEnd = q;
        if (q < next && node[q] == 0x12) {
            (ok, nameStart, nameEnd) = _bytesField(node, q + 1, next);
            if (!ok) return (false, 0, 0, 0, 0, 0);
            q = nameEnd;
        }
        if (q < next && node[q] == 0x18) (ok, , q) = _varint(node, q + 1, next);
        ok = ok && q == next;
    }

    function _linkOf(bytes calldata cid) private pure returns (bool ok, Link memory link) {
        if (cid.length == 36 && bytes4(cid[0:4]) == RAW_CID) return (true, Link(bytes32(cid[4:36]), true));
        if (cid.length == 36 && bytes4(cid[0:4]) == DAG_PB_CID) return (true, Link(bytes32(cid[4:36]), false));
        if (cid.length == 34 && bytes2(cid[0:2]) == V0_CID) return (true, Link(bytes32(cid[2:34]), false));
        return (false, link);
    }

    /// @dev A length-delimited field whose length varint is at `p`: its body [start, end) inside `limit`.
    function _bytesField(bytes calldata b, uint256 p, uint256 limit) private pure returns (bool ok, uint256 start, uint256 end) {
        uint256 length;
        (ok, length, start) = _varint(b, p, limit);
        // Cannot overflow: start < limit <= calldata size, length < 2^63.
        unchecked {
            end = start + length;
        }
        ok = ok && end <= limit;
    }

    /// @dev A protobuf varint of at most 9 bytes (63 bits) starting at `p`, all below `limit`.
    function _varint(bytes calldata b, uint256 p, uint256 limit) private pure returns (bool ok, uint256 value, uint256 next) {
        for (uint256 i = 0; i < 9 && p + i < limit; i++) {
            uint256 c = uint8(b[p + i]);
            value |= (c & 0x7f) << (7 * i);
            if (c < 0x80) return (true, value, p + i + 1);
        }
        return (false, 0, 0);
    }
}
