describe('mergeAll', () => {
  it('should not leak when the inner completes before the outer', () => {
    const outer = new Subject<Observable<number>>();
    const sub = outer.pipe(mergeAll()).subscribe();

    outer.next(of(1));

    // one child of mergeAll(): the outer's subscriber
    expect((sub as any)._finalizers?.[0]._finalizers?.length).to.equal(1);
    sub.unsubscribe();
  });
});
