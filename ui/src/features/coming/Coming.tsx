export function Coming({ what }: { what: string }) {
  return (
    <section className="page">
      <header className="page-head">
        <h1>{what}</h1>
      </header>
      <div className="empty" role="status">
        <h2>{what} is coming</h2>
        <p>This part of Warden is being built. The directory screens (People, Roles, Who can…) work today.</p>
      </div>
    </section>
  );
}
