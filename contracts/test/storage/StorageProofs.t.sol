// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "../Vm.sol";
import {StorageProofs} from "../../src/storage/StorageProofs.sol";
import {StorageFixtureData as F} from "./StorageFixtureData.sol";
import {StorageProofsHarness, StorageVm} from "./StorageTestKit.sol";

/// @notice The proof of a leaf under a version's tree, on real store bytes: the TypeScript
///         builder's proofs verify, and every forgery fails on the hash it breaks.
contract StorageProofsTest is TestBase {
    event log_named_uint(string key, uint256 val);

    StorageVm internal constant svm = StorageVm(address(uint160(uint256(keccak256("hevm cheat code")))));
    StorageProofsHarness internal h;

    function setUp() public {
        h = new StorageProofsHarness();
    }

    function test_treeOfReadsTheCommit() public view {
        (bytes32 version, bytes32 tree) = h.treeOf(F.commit());
        assertTrue(version == F.VERSION, "version digest");
        assertTrue(tree == F.TREE, "tree digest");
    }

    function test_notAVersionIsRefused() public {
        bytes memory commit = F.commit();
        commit[12] = 0x65; // "tref" for "tree"
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.NotAVersion.selector, 7 + 4));
        h.treeOf(commit);
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.NotAVersion.selector, 0));
        h.treeOf(F.otherLeaf());
    }

    function test_builderProofsVerify() public {
        for (uint256 i = 0; i < F.PROOFS; i++) {
            (uint256 seed, uint256 offset, bytes[] memory nodes, bytes memory leaf) = F.proof(i);
            uint256 before = gasleft();
            uint256 got = h.verify(F.TREE, seed, nodes, leaf);
            emit log_named_uint("gas per proof", before - gasleft());
            emit log_named_uint("  leaf bytes", leaf.length);
            emit log_named_uint("  depth", nodes.length);
            assertEq(got, offset, "offset drawn");
        }
    }

    function test_attack_blockOfAnotherDataset() public {
        (uint256 seed,, bytes[] memory nodes, bytes memory leaf) = F.proof(1);
        bytes memory other = F.otherLeaf();
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.HashMismatch.selector, nodes.length, sha256(leaf), sha256(other)));
        h.verify(F.TREE, seed, nodes, other);
    }

    function test_attack_truncatedLeaf() public {
        (uint256 seed,, bytes[] memory nodes, bytes memory leaf) = F.proof(1);
        bytes memory cut = new bytes(leaf.length - 1);
        for (uint256 i = 0; i < cut.length; i++) cut[i] = leaf[i];
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.HashMismatch.selector, nodes.length, sha256(leaf), sha256(cut)));
        h.verify(F.TREE, seed, nodes, cut);
    }

    function test_attack_truncatedNode() public {
        (uint256 seed,, bytes[] memory nodes, bytes memory leaf) = F.proof(1);
        bytes memory node = nodes[1];
        bytes memory cut = new bytes(node.length - 1);
        for (uint256 i = 0; i < cut.length; i++) cut[i] = node[i];
        nodes[1] = cut;
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.HashMismatch.selector, 1, sha256(node), sha256(cut)));
        h.verify(F.TREE, seed, nodes, leaf);
    }

    /// A provider rewrites the file node to point at a leaf it holds: the node's hash no
    /// longer matches the link in the directory above.
    function test_attack_forgedPath() public {
        (uint256 seed,, bytes[] memory nodes, bytes memory leaf) = F.proof(1);
        (,,, bytes memory held) = F.proof(2);
        bytes memory forged = bytes.concat(nodes[1]);
        bytes32 want = sha256(leaf);
        bytes32 mine = sha256(held);
        for (uint256 i = 0; i + 32 <= forged.length; i++) {
            if (bytes32(slice(forged, i)) == want) {
                for (uint256 j = 0; j < 32; j++) forged[i + j] = mine[j];
            }
        }
        bytes memory original = nodes[1];
        nodes[1] = forged;
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.HashMismatch.selector, 1, sha256(original), sha256(forged)));
        h.verify(F.TREE, seed, nodes, held);
    }

    /// A valid path to a leaf, but not the one the seed draws.
    function test_attack_leafNotTheChallengedOne() public {
        (, , bytes[] memory nodesA, bytes memory leafA) = F.proof(1);
        (uint256 seedB,,, bytes memory leafB) = F.proof(2);
        assertTrue(sha256(leafA) != sha256(leafB), "fixture draws two leaves");
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.HashMismatch.selector, nodesA.length, sha256(leafB), sha256(leafA)));
        h.verify(F.TREE, seedB, nodesA, leafA);
    }

    function test_attack_pathCutShort() public {
        (uint256 seed,, bytes[] memory nodes, bytes memory leaf) = F.proof(1);
        bytes[] memory short = new bytes[](1);
        short[0] = nodes[0];
        // The directory's link is to a dag-pb file node: a raw leaf cannot follow it.
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.WrongCodec.selector, 0, bytes.concat(StorageProofs.DAG_PB_CID, sha256(nodes[1]))));
        h.verify(F.TREE, seed, short, leaf);
        bytes[] memory none = new bytes[](0);
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.EmptyTree.selector));
        h.verify(F.TREE, seed, none, leaf);
    }

    /// The parser only reads hash-checked blocks, but a dataset's author could commit a
    /// malformed one: it must fail as MalformedNode, never read past the block or panic.
    function test_malformedNodeIsRefused() public {
        (,, bytes[] memory nodes,) = F.proof(1);
        bytes memory node = nodes[1];
        assertTrue(h.linkSum(node) > 0, "the real node parses");
        bytes memory cut = new bytes(40); // inside the first link (tag, length, then 36+ bytes of Hash)
        for (uint256 i = 0; i < cut.length; i++) cut[i] = node[i];
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.MalformedNode.selector, 0, 0));
        h.linkSum(cut);
        bytes memory stray = bytes.concat(node, hex"20");
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.MalformedNode.selector, 0, node.length));
        h.linkSum(stray);
    }

    function testFuzz_parserNeverPanics(bytes calldata junk) public view {
        try h.linkSum(junk) returns (uint256) {}
        catch (bytes memory reason) {
            assertTrue(bytes4(reason) == StorageProofs.MalformedNode.selector, "only MalformedNode");
        }
    }

    function slice(bytes memory b, uint256 pos) private pure returns (bytes32 word) {
        assembly {
            word := mload(add(add(b, 32), pos))
        }
    }
}
