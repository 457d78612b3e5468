// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StorageProofs} from "../../src/storage/StorageProofs.sol";

/// @notice The cheatcodes the storage tests need beyond test/Vm.sol.
interface StorageVm {
    function setBlockhash(uint256 blockNumber, bytes32 blockHash) external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit() external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

/// @notice A log as the `getRecordedLogs` cheatcode returns it.
struct Log {
    bytes32[] topics;
    bytes data;
    address emitter;
}

/// @notice StorageProofs behind external calls, so tests pass it calldata.
contract StorageProofsHarness {
    function treeOf(bytes calldata commit) external view returns (bytes32 version, bytes32 tree) {
        return StorageProofs.treeOf(commit);
    }

    function linkSum(bytes calldata node) external pure returns (uint256) {
        return StorageProofs.linkSum(node, 0);
    }

    function verify(bytes32 root, uint256 seed, bytes[] calldata nodes, bytes calldata leaf) external view returns (uint256) {
        return StorageProofs.verify(root, seed, nodes, leaf);
    }
}

/// @notice Builds the proof a seed draws from a list of a tree's blocks, as a storer would
///         from its blockstore (the TypeScript builder is checked against the same walk by
///         the fixture's proofs).
contract StorageProofBuilder {
    error BlockMissing(bytes32 digest);

    function build(bytes32 root, uint256 seed, bytes[] calldata blocks)
        external
        pure
        returns (bytes[] memory nodes, bytes memory leaf)
    {
        bytes[] memory path = new bytes[](16);
        uint256 n = 0;
        bytes32 want = root;
        uint256 pos = seed;
        bool raw = false;
        for (;;) {
            bytes calldata b = find(blocks, want);
            if (raw) {
                leaf = b;
                break;
            }
            path[n] = b;
            n += 1;
            uint256 total = StorageProofs.linkSum(b, n);
            if (total == 0) break;
            pos %= total;
            (bytes calldata cid, uint256 start) = StorageProofs.pick(b, n, pos);
            pos -= start;
            raw = bytes4(cid[0:4]) == StorageProofs.RAW_CID;
            want = bytes32(cid[4:36]);
        }
        nodes = new bytes[](n);
        for (uint256 i = 0; i < n; i++) nodes[i] = path[i];
    }

    function find(bytes[] calldata blocks, bytes32 digest) private pure returns (bytes calldata) {
        for (uint256 i = 0; i < blocks.length; i++) {
            if (sha256(blocks[i]) == digest) return blocks[i];
        }
        revert BlockMissing(digest);
    }
}
